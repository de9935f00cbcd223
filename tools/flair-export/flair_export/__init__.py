"""Converts FLAIR-INC checkpoints (smp Unet/ResNet-34, 5 bands, 19 logits) to the ONNX model folder flair-fleet runs."""

from .unet_resnet34 import (
    FLAIR_CLASSES,
    FLAIR_IN_CHANNELS,
    UnetResNet34,
    expected_state_dict_shapes,
    expected_parameter_count,
)
from .checkpoint import CheckpointError, load_checkpoint, read_state_dict, strip_prefix

__all__ = [
    "FLAIR_CLASSES",
    "FLAIR_IN_CHANNELS",
    "UnetResNet34",
    "expected_state_dict_shapes",
    "expected_parameter_count",
    "CheckpointError",
    "load_checkpoint",
    "read_state_dict",
    "strip_prefix",
]
