"""Stroke formats, the differentiable rasterizer and input pipelines."""
