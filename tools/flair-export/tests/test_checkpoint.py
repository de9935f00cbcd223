"""Checkpoint reading: .pth with and without the model.seg_model. prefix, Lightning .ckpt, strict errors."""

import os
import shutil
import tempfile
import unittest
from collections import OrderedDict

import torch

from flair_export.checkpoint import PREFIX, CheckpointError, load_checkpoint, read_state_dict, strip_prefix
from flair_export.unet_resnet34 import UnetResNet34


class CheckpointTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.dir = tempfile.mkdtemp(prefix="flair-export-test-")
        torch.manual_seed(11)
        cls.source = UnetResNet34()
        with torch.no_grad():  # non-default running stats, so loading them is observable
            for m in cls.source.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.normal_()
                    m.running_var.uniform_(0.5, 2.0)
        cls.state = cls.source.state_dict()

    @classmethod
    def tearDownClass(cls) -> None:
        shutil.rmtree(cls.dir, ignore_errors=True)

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def assertSameWeights(self, model: torch.nn.Module) -> None:
        loaded = model.state_dict()
        self.assertEqual(list(loaded), list(self.state))
        for k, v in self.state.items():
            self.assertTrue(torch.equal(loaded[k], v), k)

    def test_strip_prefix(self) -> None:
        state, dropped = strip_prefix({PREFIX + "a": 1, PREFIX + "b.c": 2, "criterion.weight": 3})
        self.assertEqual(state, OrderedDict([("a", 1), ("b.c", 2)]))
        self.assertEqual(dropped, ["criterion.weight"])
        state, dropped = strip_prefix({"a": 1, "b": 2})
        self.assertEqual(state, OrderedDict([("a", 1), ("b", 2)]))
        self.assertEqual(dropped, [])

    def test_pth_without_prefix(self) -> None:
        f = self.path("plain.pth")
        torch.save(self.state, f)
        model = load_checkpoint(f)
        self.assertFalse(model.training)
        self.assertSameWeights(model)

    def test_pth_with_prefix(self) -> None:
        f = self.path("prefixed.pth")
        torch.save(OrderedDict((PREFIX + k, v) for k, v in self.state.items()), f)
        self.assertSameWeights(load_checkpoint(f))

    def test_lightning_ckpt(self) -> None:
        f = self.path("lightning.ckpt")
        state = {PREFIX + k: v for k, v in self.state.items()}
        state["criterion.weight"] = torch.ones(19)
        torch.save({"epoch": 3, "global_step": 99, "state_dict": state}, f)
        smp_state, dropped = read_state_dict(f)
        self.assertEqual(dropped, ["criterion.weight"])
        self.assertEqual(len(smp_state), 278)
        self.assertSameWeights(load_checkpoint(f))

    def test_pickled_objects_need_allow_pickle(self) -> None:
        import argparse

        f = self.path("hparams.ckpt")
        state = {PREFIX + k: v for k, v in self.state.items()}
        torch.save({"state_dict": state, "hyper_parameters": argparse.Namespace(lr=0.01)}, f)
        with self.assertRaises(CheckpointError) as ctx:
            load_checkpoint(f)
        self.assertIn(f, str(ctx.exception))
        self.assertIn("--allow-pickle", str(ctx.exception))
        self.assertSameWeights(load_checkpoint(f, allow_pickle=True))

    def test_missing_keys_are_named(self) -> None:
        f = self.path("missing.pth")
        state = OrderedDict(self.state)
        del state["segmentation_head.0.bias"]
        del state["decoder.blocks.4.conv2.1.running_var"]
        torch.save(state, f)
        with self.assertRaises(CheckpointError) as ctx:
            load_checkpoint(f)
        msg = str(ctx.exception)
        self.assertIn(f, msg)
        self.assertIn("2 missing key(s)", msg)
        self.assertIn("segmentation_head.0.bias", msg)
        self.assertIn("decoder.blocks.4.conv2.1.running_var", msg)

    def test_unexpected_keys_are_named(self) -> None:
        f = self.path("unexpected.pth")
        state = OrderedDict(self.state)
        state["encoder.fc.weight"] = torch.zeros(1000, 512)
        state["decoder.center.0.weight"] = torch.zeros(1)
        torch.save(state, f)
        with self.assertRaises(CheckpointError) as ctx:
            load_checkpoint(f)
        msg = str(ctx.exception)
        self.assertIn(f, msg)
        self.assertIn("2 unexpected key(s): encoder.fc.weight, decoder.center.0.weight", msg)

    def test_wrong_architecture_lists_first_keys_only(self) -> None:
        f = self.path("other.pth")
        torch.save({f"backbone.{i}.weight": torch.zeros(1) for i in range(20)}, f)
        with self.assertRaises(CheckpointError) as ctx:
            load_checkpoint(f)
        msg = str(ctx.exception)
        self.assertIn("278 missing key(s): encoder.conv1.weight, encoder.bn1.weight", msg)
        self.assertIn("20 unexpected key(s): backbone.0.weight", msg)
        self.assertIn("... and 12 more", msg)

    def test_shape_mismatch_is_named(self) -> None:
        f = self.path("rgb.pth")
        state = UnetResNet34(in_channels=3).state_dict()
        torch.save(state, f)
        with self.assertRaises(CheckpointError) as ctx:
            load_checkpoint(f)
        self.assertIn("encoder.conv1.weight [64, 3, 7, 7] (model: [64, 5, 7, 7])", str(ctx.exception))

    def test_not_a_state_dict(self) -> None:
        f = self.path("list.pth")
        torch.save([1, 2, 3], f)
        with self.assertRaisesRegex(CheckpointError, "expected a state dict"):
            load_checkpoint(f)
        with self.assertRaisesRegex(CheckpointError, "no such file"):
            load_checkpoint(self.path("absent.pth"))
        garbage = self.path("garbage.pth")
        with open(garbage, "wb") as fh:
            fh.write(b"not a torch file")
        with self.assertRaisesRegex(CheckpointError, "garbage.pth"):
            load_checkpoint(garbage)


if __name__ == "__main__":
    unittest.main()
