"""Few-shot evaluation, linear probes and figures."""
