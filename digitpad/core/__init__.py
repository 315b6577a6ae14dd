"""Qt-free core of digitpad: data, drawing normalisation, models, training, inference, model files.

Nothing under this package may import PySide6, pyqtgraph or superqt (``tests/test_architecture.py``
enforces it), and nothing here imports TensorFlow at module import time: TensorFlow is loaded
lazily through :mod:`digitpad.core.tfsetup` so the GUI window can appear before it has loaded.
"""
