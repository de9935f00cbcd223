"""Key layout, shapes and parameter count of UnetResNet34 against smp's Unet(resnet34, 5, 19)."""

import unittest

import torch

from flair_export.unet_resnet34 import (
    UnetResNet34,
    decoder_block_channels,
    expected_parameter_count,
    expected_state_dict_shapes,
)


class ArchitectureTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.model = UnetResNet34().eval()
        cls.state = cls.model.state_dict()

    def test_keys_and_shapes_are_smps(self) -> None:
        expected = expected_state_dict_shapes()
        self.assertEqual(list(self.state.keys()), list(expected.keys()))
        for key, shape in expected.items():
            self.assertEqual(tuple(self.state[key].shape), shape, key)
        self.assertEqual(len(self.state), 278)

    def test_sample_of_keys(self) -> None:
        shapes = {k: list(v.shape) for k, v in self.state.items()}
        self.assertEqual(shapes["encoder.conv1.weight"], [64, 5, 7, 7])
        self.assertEqual(shapes["encoder.bn1.running_var"], [64])
        self.assertEqual(shapes["encoder.layer1.0.conv1.weight"], [64, 64, 3, 3])
        self.assertEqual(shapes["encoder.layer2.0.downsample.0.weight"], [128, 64, 1, 1])
        self.assertEqual(shapes["encoder.layer3.5.conv2.weight"], [256, 256, 3, 3])
        self.assertEqual(shapes["encoder.layer4.0.downsample.1.running_mean"], [512])
        self.assertEqual(shapes["encoder.layer4.2.bn2.weight"], [512])
        self.assertEqual(shapes["decoder.blocks.0.conv1.0.weight"], [256, 512 + 256, 3, 3])
        self.assertEqual(shapes["decoder.blocks.0.conv1.1.num_batches_tracked"], [])
        self.assertEqual(shapes["decoder.blocks.1.conv1.0.weight"], [128, 256 + 128, 3, 3])
        self.assertEqual(shapes["decoder.blocks.2.conv1.0.weight"], [64, 128 + 64, 3, 3])
        self.assertEqual(shapes["decoder.blocks.3.conv1.0.weight"], [32, 64 + 64, 3, 3])
        self.assertEqual(shapes["decoder.blocks.4.conv1.0.weight"], [16, 32, 3, 3])
        self.assertEqual(shapes["decoder.blocks.4.conv2.1.bias"], [16])
        self.assertEqual(shapes["segmentation_head.0.weight"], [19, 16, 3, 3])
        self.assertEqual(shapes["segmentation_head.0.bias"], [19])

    def test_no_keys_smp_does_not_have(self) -> None:
        for key in self.state:
            self.assertFalse(key.startswith("encoder.fc"), key)
            self.assertFalse(key.startswith("decoder.center"), key)
            self.assertNotIn("attention", key)
            self.assertFalse(key.startswith("classification_head"), key)
        # conv layers before batchnorm have no bias, as in smp (bias=not use_batchnorm) and torchvision
        self.assertNotIn("decoder.blocks.0.conv1.0.bias", self.state)
        self.assertNotIn("encoder.conv1.bias", self.state)
        self.assertEqual(len([k for k in self.state if "downsample.0.weight" in k]), 3)

    def test_decoder_channel_arithmetic(self) -> None:
        self.assertEqual(
            decoder_block_channels((5, 64, 64, 128, 256, 512)),
            [(512, 256, 256), (256, 128, 128), (128, 64, 64), (64, 64, 32), (32, 0, 16)],
        )

    def test_parameter_count(self) -> None:
        count = sum(p.numel() for p in self.model.parameters())
        self.assertEqual(count, 24_445_251)
        self.assertEqual(count, expected_parameter_count())
        # smp's default resnet34 Unet (3 bands, 1 class) is the commonly quoted 24,436,369
        self.assertEqual(sum(p.numel() for p in UnetResNet34(3, 1).parameters()), 24_436_369)

    def test_forward_shapes(self) -> None:
        x = torch.randn(2, 5, 64, 96)
        with torch.no_grad():
            features = self.model.encoder(x)
            self.assertEqual(
                [tuple(f.shape) for f in features],
                [(2, 5, 64, 96), (2, 64, 32, 48), (2, 64, 16, 24), (2, 128, 8, 12), (2, 256, 4, 6), (2, 512, 2, 3)],
            )
            y = self.model(x)
        self.assertEqual(tuple(y.shape), (2, 19, 64, 96))
        self.assertTrue(torch.isfinite(y).all())


if __name__ == "__main__":
    unittest.main()
