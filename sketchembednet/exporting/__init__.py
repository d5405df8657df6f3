"""The export of a model as TF Hub modules with a model card (CLI: ``sketchembednet.export``).

Modules, each importing only those before it:
  hub_modules: the ``tf.Module`` s saved as ``encoder/`` and ``decoder/``.
  facts: an export's layout, its ``config.json`` and the ``export`` section (training
    facts of a workdir, stroke scales, what a re-export carries over).
  model_card: the ``README.md`` of an export.
  saved_model: the procedure: ``export`` (a workdir), ``reexport`` (an earlier export),
    ``write_export`` (the modules, config.json and card, swapped in atomically).

Importing this package imports none of them.
"""
