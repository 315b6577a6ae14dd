"""digitpad: draw a digit, see what a neural network thinks it is, train it yourself."""

__version__ = "0.1.0"
