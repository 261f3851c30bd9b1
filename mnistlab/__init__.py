"""MNIST Lab: train, compare and probe the course report's MLPs and CNNs on real MNIST.

Modules, in the order data flows: data → spec → presets → build → train (events) → metrics → store;
preprocess turns a drawing into an MNIST image; npzfile reads a user's .npz safely; cli/ is the `mnistlab` command (a
module per group of commands). Installed, the dashboard is mnistlab/dashboard (dashboard/ in the repository).
TensorFlow is imported only where a model is built, trained or loaded.
"""

__version__ = "0.1.0"
