"""Export PyTorch models as signweave bundles (the contract: docs/bundles.md).

    python export_expert.py [OUT]        # writes OUT/{sign,fingerspell,lipread,router} (default OUT: ./bundles)
    npx signweave models verify OUT      # schema, sha256, vocabulary, ONNX inputs/outputs, a run on zeros

The modules below are toys with random weights; put your trained modules in their place and set WEIGHTS to
"trained". Needs torch and onnx. The experts go through torch.onnx.export (TorchScript exporter, opset 17); the router
is written with onnx.helper, because signweave reads its weights by name and in [in, out] layout.
"""
import datetime
import hashlib
import inspect
import json
import sys
from pathlib import Path

import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "bundles")
WEIGHTS = "random"  # "trained" for trained weights; anything else makes `signweave translate` print UNTRAINED MODELS
FEATURE_DIM = 384  # DINOv2 ViT-S/14 CLS features
MAX_FRAMES = 1024
GLOSSES = ["<blank>", "HELLO", "YOU", "NAME", "WHAT"]  # in practice targets.vocab.gloss.txt of `signweave pseudogloss`
LETTERS = ["<blank>", *"abcdefghijklmnopqrstuvwxyz", " ", "'", "."]
ARPABET = "aa ae ah ao aw ay b ch d dh eh er ey f g hh ih iy jh k l m n ng ow oy p r s sh t th uh uw v w y z zh"
PHONEMES = ["<blank>", *ARPABET.split()]


class FeatureCtcHead(nn.Module):
    """Sign or fingerspelling expert: features [B, T, D] + learned positions -> linear CTC head -> logits [B, T, V]."""

    def __init__(self, vocab_size):
        super().__init__()
        self.pos = nn.Parameter(torch.randn(MAX_FRAMES, FEATURE_DIM) * 0.02)
        self.head = nn.Linear(FEATURE_DIM, vocab_size)

    def forward(self, features):
        return self.head(features + self.pos[: features.shape[1]])


class LipReader(nn.Module):
    """Lipreading expert: crops [B, T, S, S, C] (channels last) -> frame encoder -> strided conv1d -> [B, T', V]."""

    def __init__(self, size, channels, stride, vocab_size, dim=64):
        super().__init__()
        self.frame = nn.Conv2d(channels, dim, kernel_size=size // 4, stride=size // 4)  # stands in for the ViT
        # Kernel 2*stride+1 padded by stride on each side gives T' = ceil(T / stride), what temporalStride promises.
        self.temporal = nn.Conv1d(dim, dim, kernel_size=2 * stride + 1, stride=stride, padding=stride)
        self.head = nn.Linear(dim, vocab_size)

    def forward(self, crops):
        b, t = crops.shape[0], crops.shape[1]
        x = self.frame(crops.flatten(0, 1).permute(0, 3, 1, 2)).mean(dim=(2, 3)).reshape(b, t, -1)
        return self.head(nn.functional.gelu(self.temporal(x.transpose(1, 2))).transpose(1, 2))


class Unbatched(nn.Module):
    """signweave runs one video at a time: the graph takes [T, ...] and returns [T', V], without a batch axis."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x.unsqueeze(0)).squeeze(0)


def export(model, example, folder, input_name):
    folder.mkdir(parents=True, exist_ok=True)
    # torch >= 2.9 defaults to the dynamo exporter; dynamic_axes below is an argument of the TorchScript one.
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    torch.onnx.export(
        Unbatched(model).eval(), (example,), str(folder / "model.onnx"),
        input_names=[input_name], output_names=["logits"],
        dynamic_axes={input_name: {0: "T"}, "logits": {0: "T_out"}},  # only time is symbolic: D, S, C and V stay fixed
        opset_version=17, **legacy)


def export_router(linears, activation, folder):
    """signweave runs the router MLP in TypeScript from the initializers mlp.N.weight [in, out] (y = x @ W, the
    transpose of nn.Linear.weight) and mlp.N.bias [out], `activation` between layers; only `models verify` runs the
    graph itself."""
    nodes, weights, x = [], [], "pooled"
    for i, linear in enumerate(linears):
        last = i == len(linears) - 1
        weights += [numpy_helper.from_array(linear.weight.detach().numpy().T.copy(), f"mlp.{i}.weight"),
                    numpy_helper.from_array(linear.bias.detach().numpy(), f"mlp.{i}.bias")]
        nodes += [helper.make_node("MatMul", [x, f"mlp.{i}.weight"], [f"mm{i}"]),
                  helper.make_node("Add", [f"mm{i}", f"mlp.{i}.bias"], ["logits" if last else f"lin{i}"])]
        if not last:
            nodes.append(helper.make_node("Gelu" if activation == "gelu" else "Relu", [f"lin{i}"], [f"act{i}"]))
            x = f"act{i}"
    pooled = helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["S", linears[0].in_features])
    logits = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["S", linears[-1].out_features])
    graph = helper.make_graph(nodes, "router", [pooled], [logits], weights)
    folder.mkdir(parents=True, exist_ok=True)
    # Gelu (the exact erf form, as nn.GELU()) is an ONNX op from opset 20 on.
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)]), str(folder / "model.onnx"))


def write_bundle(folder, kind, input_spec, output_spec, vocab=None, temporal_stride=1, **extra):
    if vocab is not None:  # one label per line, index = line number - 1; the space label is spelled <space>
        lines = ("<space>" if v == " " else v for v in vocab)
        (folder / "vocab.txt").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    manifest = {
        "$schema": "urn:signweave:schema:bundle:1", "format": "signweave-bundle/1", "kind": kind, "name": f"my-{kind}",
        "version": "1.0.0", "input": input_spec, "output": output_spec, "temporalStride": temporal_stride,
        "onnx": {"file": "model.onnx", "sha256": hashlib.sha256((folder / "model.onnx").read_bytes()).hexdigest()},
        "weights": WEIGHTS,
        "provenance": {"createdBy": f"export_expert.py, torch {torch.__version__}",
                       "createdAt": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")},
        **extra,
    }
    # Last, since it names the other files and the model's hash.
    (folder / "bundle.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    torch.manual_seed(0)
    frames = 16  # the trace's length; the exported time axis is symbolic
    features = {"type": "features", "name": "features", "dim": FEATURE_DIM, "maxFrames": MAX_FRAMES}
    ctc = {"name": "logits", "vocab": "vocab.txt", "blank": 0}
    for kind, vocab in (("sign", GLOSSES), ("fingerspell", LETTERS)):
        export(FeatureCtcHead(len(vocab)), torch.zeros(frames, FEATURE_DIM), OUT / kind, "features")
        write_bundle(OUT / kind, kind, features, ctc, vocab)

    size, channels, stride = 96, 3, 2
    lip_reader = LipReader(size, channels, stride, len(PHONEMES))
    export(lip_reader, torch.zeros(frames, size, size, channels), OUT / "lipread", "lips")
    lips = {"type": "lip-crops", "name": "lips", "size": size, "channels": channels,
            "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
    write_bundle(OUT / "lipread", "lipread", lips, ctc, PHONEMES, temporal_stride=stride)

    mlp = [nn.Linear(FEATURE_DIM, 128), nn.Linear(128, 3)]
    export_router(mlp, "gelu", OUT / "router")
    pooled = {"type": "features", "name": "pooled", "dim": FEATURE_DIM, "window": 16, "hop": 8}
    classes = {"name": "logits", "classes": ["sign", "fingerspell", "rest"]}
    write_bundle(OUT / "router", "router", pooled, classes, architecture={"activation": "gelu", "hidden": [128]})
