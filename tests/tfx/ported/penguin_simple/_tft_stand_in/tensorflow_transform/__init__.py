"""A test stand-in for the one TensorFlow Transform function TFX's penguin_simple module file calls.

tensorflow-transform is not in headrace's locked dependency set. The Trainer test puts this folder
on the path only when the real package is missing, so the tutorial's module file runs unchanged.
"""
