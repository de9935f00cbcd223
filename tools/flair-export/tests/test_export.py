"""Model folder writing: model.json contents, version from the checkpoint, the ONNX graph's interface."""

import json
import os
import shutil
import tempfile
import unittest

import onnx
import torch

from flair_export.__main__ import main
from flair_export.export import DEFAULT_MANIFEST, build_manifest, checkpoint_version, random_model, sha256_file


class ExportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.dir = tempfile.mkdtemp(prefix="flair-export-test-")
        with open(DEFAULT_MANIFEST, encoding="utf-8") as f:
            cls.template = json.load(f)

    @classmethod
    def tearDownClass(cls) -> None:
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_manifest_is_the_repository_one_with_a_new_version(self) -> None:
        m = build_manifest(self.template, "v-test")
        self.assertEqual(m["version"], "v-test")
        self.assertEqual((m["input"], m["output"]), ("input", "logits"))
        for key in ("name", "bands", "mean", "std", "patch", "classes"):
            self.assertEqual(m[key], self.template[key], key)
        self.assertNotEqual(self.template.get("version"), "v-test")  # the template is not modified

    def test_manifest_patch_override(self) -> None:
        m = build_manifest(self.template, "v-test", patch=2048)
        self.assertEqual(m["patch"], 2048)
        self.assertEqual(m["classes"], self.template["classes"])
        self.assertEqual(build_manifest(self.template, "v-test")["patch"], self.template["patch"])
        for bad in (0, -32, 1000):
            with self.assertRaisesRegex(ValueError, "multiple of 32"):
                build_manifest(self.template, "v-test", patch=bad)

    def test_cli_patch_with_fixed_size_fixes_the_graph_to_it(self) -> None:
        out = os.path.join(self.dir, "fixed-256")
        self.assertEqual(main(["--random", "--seed", "2", "--patch", "256", "--fixed-size", "--out", out]), 0)
        with open(os.path.join(out, "model.json"), encoding="utf-8") as f:
            self.assertEqual(json.load(f)["patch"], 256)
        graph = onnx.load(os.path.join(out, "model.onnx"))
        shape = [d.dim_param or d.dim_value for d in graph.graph.input[0].type.tensor_type.shape.dim]
        self.assertEqual(shape, ["batch", 5, 256, 256])

    def test_cli_refuses_a_patch_off_the_stride_and_writes_nothing(self) -> None:
        out = os.path.join(self.dir, "off-stride")
        self.assertEqual(main(["--random", "--patch", "1000", "--out", out]), 2)
        self.assertFalse(os.path.exists(out))

    def test_version_from_file_name_and_hash(self) -> None:
        f = os.path.join(self.dir, "FLAIR-INC_test.pth")
        with open(f, "wb") as fh:
            fh.write(b"abc")
        digest = sha256_file(f)
        self.assertEqual(digest, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        self.assertEqual(checkpoint_version(f), "FLAIR-INC_test.sha256-ba7816bf8f01")

    def test_random_model_is_deterministic_and_not_trivial(self) -> None:
        a, b = random_model(5, calibration_size=64), random_model(5, calibration_size=64)
        for k, v in a.state_dict().items():
            self.assertTrue(torch.equal(v, b.state_dict()[k]), k)
        bn = a.decoder.blocks[0].conv1[1]
        self.assertGreater(float(bn.running_mean.abs().mean()), 0.0)
        self.assertGreater(float((bn.running_var - 1).abs().mean()), 0.01)
        raw = torch.randint(0, 256, (1, 5, 64, 64), generator=torch.Generator().manual_seed(1)).float()
        mean = torch.tensor(self.template["mean"]).view(1, 5, 1, 1)
        std = torch.tensor(self.template["std"]).view(1, 5, 1, 1)
        with torch.no_grad():
            y = a((raw - mean) / std)
        self.assertTrue(torch.isfinite(y).all())
        self.assertGreater(float(y.std()), 0.3)
        self.assertLess(float(y.abs().max()), 1e3)
        self.assertGreater(len(torch.unique(y.argmax(1))), 3)

    def test_cli_random_export(self) -> None:
        out = os.path.join(self.dir, "random")
        self.assertEqual(main(["--random", "--seed", "2", "--out", out]), 0)
        with open(os.path.join(out, "model.json"), encoding="utf-8") as f:
            m = json.load(f)
        self.assertEqual(m["version"], "random-seed2")
        self.assertEqual(m["classes"], self.template["classes"])
        graph = onnx.load(os.path.join(out, "model.onnx"))
        onnx.checker.check_model(graph)
        self.assertGreaterEqual(max(o.version for o in graph.opset_import if o.domain in ("", "ai.onnx")), 17)

        def dims(value):  # dim_param for symbolic axes, dim_value otherwise
            return [d.dim_param or d.dim_value for d in value.type.tensor_type.shape.dim]

        self.assertEqual([i.name for i in graph.graph.input], ["input"])
        self.assertEqual([o.name for o in graph.graph.output], ["logits"])
        self.assertEqual(dims(graph.graph.input[0]), ["batch", 5, "height", "width"])
        self.assertEqual(dims(graph.graph.output[0]), ["batch", 19, "height", "width"])
        ops = {n.op_type for n in graph.graph.node}
        self.assertIn("Resize", ops)

    def test_cli_reports_a_bad_checkpoint(self) -> None:
        f = os.path.join(self.dir, "bad.pth")
        torch.save({"x": torch.zeros(1)}, f)
        self.assertEqual(main(["--checkpoint", f, "--out", os.path.join(self.dir, "bad")]), 2)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "bad", "model.onnx")))


if __name__ == "__main__":
    unittest.main()
