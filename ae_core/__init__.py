"""Manifold Lab's core: datasets, noise, the autoencoder zoo, training, checkpoints and analysis.

Pure Python + torch + numpy + scikit-learn; never imports streamlit, so the CLI, the tests,
the benchmarks and the app all share it. Start at `workflow.train_on` and `store.load`.
"""
__version__ = "0.1.0"
