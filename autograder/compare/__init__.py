"""``nngrade compare``: the same network trained in NumPy (in the sandboxed worker) and in
PyTorch, with the same initial parameters, batches, data order and optimizer settings."""
