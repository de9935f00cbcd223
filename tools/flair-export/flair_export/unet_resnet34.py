"""U-Net with a ResNet-34 encoder, state-dict compatible with segmentation_models_pytorch.

This is `segmentation_models_pytorch.Unet(encoder_name="resnet34", in_channels=5, classes=19)`
rebuilt from plain torch.nn, because smp is not installable here (no pip, no network). The module
names are chosen so that `state_dict()` has exactly smp's keys and shapes, and the forward pass
is smp's, op for op:

Encoder (smp `ResNetEncoder`, a torchvision ResNet-34 with `fc` and `avgpool` deleted; the first
conv is patched to `in_channels` inputs, which changes only the weight shape to [64, 5, 7, 7]).
Its stages give six feature maps:

    stage 0  identity                     -> x           5 ch, stride 1
    stage 1  conv1(7x7,s2) bn1 relu       ->            64 ch, stride 2
    stage 2  maxpool(3,s2,p1) layer1      ->            64 ch, stride 4
    stage 3  layer2                       ->           128 ch, stride 8
    stage 4  layer3                       ->           256 ch, stride 16
    stage 5  layer4                       ->           512 ch, stride 32

`layerK` are torchvision BasicBlocks ([3, 4, 6, 3] of them): conv3x3-bn-relu-conv3x3-bn, plus a
`downsample` = Sequential(conv1x1 stride 2, bn) on the first block of layer2..4, then add, relu.

Decoder (smp `UnetDecoder`): encoder_channels = (5, 64, 64, 128, 256, 512); drop the first
(same-resolution input) and reverse -> (512, 256, 128, 64, 64). Then

    head_channels = 512
    in_channels   = [512] + decoder_channels[:-1]  = [512, 256, 128,  64, 32]
    skip_channels = (256, 128, 64, 64) + [0]       = [256, 128,  64,  64,  0]
    out_channels  = decoder_channels               = [256, 128,  64,  32, 16]

`center` is nn.Identity (smp's default `center=False`, no keys). Each DecoderBlock: nearest x2
upsampling, concat the skip (features of stride 16, 8, 4, 2; none for the last block), then
conv1 = Conv2dReLU(in+skip -> out) and conv2 = Conv2dReLU(out -> out), where Conv2dReLU is
Sequential(0: Conv2d 3x3 p1 bias=False, 1: BatchNorm2d, 2: ReLU). Attention is None = Identity.

Segmentation head: Sequential(0: Conv2d(16, 19, 3, padding=1), 1: Identity (upsampling=1),
2: Activation(None) = Identity). No classification head (aux_params=None).

Recent smp versions upsample with `F.interpolate(size=skip size)` instead of `scale_factor=2`;
for inputs whose sides are multiples of 32 the two are the same nearest-neighbour resampling.
"""

from collections import OrderedDict
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

FLAIR_IN_CHANNELS = 5
FLAIR_CLASSES = 19
DECODER_CHANNELS: Tuple[int, ...] = (256, 128, 64, 32, 16)
RESNET34_LAYERS: Tuple[int, ...] = (3, 4, 6, 3)
RESNET34_WIDTHS: Tuple[int, ...] = (64, 128, 256, 512)


class BasicBlock(nn.Module):
    """torchvision.models.resnet.BasicBlock (expansion 1)."""

    def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample: Optional[nn.Module] = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet34Encoder(nn.Module):
    """smp's ResNetEncoder for resnet34: torchvision ResNet without fc/avgpool, returning 6 features."""

    def __init__(self, in_channels: int = FLAIR_IN_CHANNELS) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        inplanes = 64
        for i, (blocks, planes) in enumerate(zip(RESNET34_LAYERS, RESNET34_WIDTHS)):
            stride = 1 if i == 0 else 2
            layer = [BasicBlock(inplanes, planes, stride)]
            layer += [BasicBlock(planes, planes) for _ in range(blocks - 1)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*layer))
            inplanes = planes

    @property
    def out_channels(self) -> Tuple[int, ...]:
        return (self.in_channels, 64, 64, 128, 256, 512)

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        features = [x]
        x = self.relu(self.bn1(self.conv1(x)))
        features.append(x)
        x = self.layer1(self.maxpool(x))
        features.append(x)
        x = self.layer2(x)
        features.append(x)
        x = self.layer3(x)
        features.append(x)
        x = self.layer4(x)
        features.append(x)
        return features


def conv2d_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    """smp's md.Conv2dReLU with use_batchnorm=True: conv (no bias), batchnorm, relu."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class DecoderBlock(nn.Module):
    def __init__(self, in_channels: int, skip_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = conv2d_relu(in_channels + skip_channels, out_channels)
        self.attention1 = nn.Identity()
        self.conv2 = conv2d_relu(out_channels, out_channels)
        self.attention2 = nn.Identity()

    def forward(self, x: torch.Tensor, skip: Optional[torch.Tensor] = None) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        if skip is not None:
            x = torch.cat([x, skip], dim=1)
            x = self.attention1(x)
        x = self.conv1(x)
        x = self.conv2(x)
        return self.attention2(x)


def decoder_block_channels(
    encoder_channels: Sequence[int], decoder_channels: Sequence[int] = DECODER_CHANNELS
) -> List[Tuple[int, int, int]]:
    """(in, skip, out) per decoder block, as smp's UnetDecoder computes them."""
    enc = list(encoder_channels[1:])[::-1]  # drop the stride-1 input, start from the head
    head = enc[0]
    ins = [head] + list(decoder_channels[:-1])
    skips = enc[1:] + [0]
    return list(zip(ins, skips, decoder_channels))


class UnetDecoder(nn.Module):
    def __init__(self, encoder_channels: Sequence[int], decoder_channels: Sequence[int] = DECODER_CHANNELS) -> None:
        super().__init__()
        self.center = nn.Identity()
        self.blocks = nn.ModuleList(
            [DecoderBlock(i, s, o) for i, s, o in decoder_block_channels(encoder_channels, decoder_channels)]
        )

    def forward(self, *features: torch.Tensor) -> torch.Tensor:
        feats = features[1:][::-1]
        head, skips = feats[0], feats[1:]
        x = self.center(head)
        for i, block in enumerate(self.blocks):
            x = block(x, skips[i] if i < len(skips) else None)
        return x


class UnetResNet34(nn.Module):
    """smp.Unet("resnet34", in_channels, classes): input [N, C, H, W] (H, W multiples of 32), logits [N, classes, H, W]."""

    def __init__(self, in_channels: int = FLAIR_IN_CHANNELS, classes: int = FLAIR_CLASSES) -> None:
        super().__init__()
        self.encoder = ResNet34Encoder(in_channels)
        self.decoder = UnetDecoder(self.encoder.out_channels, DECODER_CHANNELS)
        self.segmentation_head = nn.Sequential(
            nn.Conv2d(DECODER_CHANNELS[-1], classes, kernel_size=3, padding=1),
            nn.Identity(),  # upsampling=1
            nn.Identity(),  # activation=None
        )
        self.classification_head = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.encoder(x)
        return self.segmentation_head(self.decoder(*features))


def _bn(prefix: str, c: int, out: "OrderedDict[str, Tuple[int, ...]]") -> None:
    for name in ("weight", "bias", "running_mean", "running_var"):
        out[f"{prefix}.{name}"] = (c,)
    out[f"{prefix}.num_batches_tracked"] = ()


def expected_state_dict_shapes(
    in_channels: int = FLAIR_IN_CHANNELS, classes: int = FLAIR_CLASSES
) -> "OrderedDict[str, Tuple[int, ...]]":
    """smp's state-dict keys and shapes, written out from the architecture (independently of the module above)."""
    s: "OrderedDict[str, Tuple[int, ...]]" = OrderedDict()
    s["encoder.conv1.weight"] = (64, in_channels, 7, 7)
    _bn("encoder.bn1", 64, s)
    inplanes = 64
    for li, (blocks, planes) in enumerate(zip(RESNET34_LAYERS, RESNET34_WIDTHS), start=1):
        for b in range(blocks):
            p = f"encoder.layer{li}.{b}"
            cin = inplanes if b == 0 else planes
            s[f"{p}.conv1.weight"] = (planes, cin, 3, 3)
            _bn(f"{p}.bn1", planes, s)
            s[f"{p}.conv2.weight"] = (planes, planes, 3, 3)
            _bn(f"{p}.bn2", planes, s)
            if b == 0 and li > 1:
                s[f"{p}.downsample.0.weight"] = (planes, inplanes, 1, 1)
                _bn(f"{p}.downsample.1", planes, s)
        inplanes = planes
    # in/skip/out per block, spelled out (see the module docstring)
    for i, (cin, skip, cout) in enumerate(
        [(512, 256, 256), (256, 128, 128), (128, 64, 64), (64, 64, 32), (32, 0, 16)]
    ):
        s[f"decoder.blocks.{i}.conv1.0.weight"] = (cout, cin + skip, 3, 3)
        _bn(f"decoder.blocks.{i}.conv1.1", cout, s)
        s[f"decoder.blocks.{i}.conv2.0.weight"] = (cout, cout, 3, 3)
        _bn(f"decoder.blocks.{i}.conv2.1", cout, s)
    s["segmentation_head.0.weight"] = (classes, 16, 3, 3)
    s["segmentation_head.0.bias"] = (classes,)
    return s


def expected_parameter_count(in_channels: int = FLAIR_IN_CHANNELS, classes: int = FLAIR_CLASSES) -> int:
    """Trainable parameters (batchnorm running stats excluded): 24,445,251 for 5 bands / 19 logits.

    The same architecture with smp's defaults (3 bands, 1 class) has 24,436,369, the figure smp's
    resnet34 Unet is commonly quoted with; 5 bands add 2*64*7*7 = 6,272 and 19 classes add
    18*(16*9+1) = 2,610.
    """
    total = 0
    for key, shape in expected_state_dict_shapes(in_channels, classes).items():
        if key.endswith(("running_mean", "running_var", "num_batches_tracked")):
            continue
        n = 1
        for d in shape:
            n *= d
        total += n
    return total
