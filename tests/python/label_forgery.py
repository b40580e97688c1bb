"""A label shard edited on purpose, then given every checksum the format defines, so that a test can show what
drllm does with content that passes them: the shard's content_sha256 and features_sha256 recomputed
independently of drllm (the length-prefixed fields of the shard format), then the file's sha256 in SHARD.sha256
and in manifest.json."""
import hashlib
import json
import os
import struct

import h5py


def forge_checksum(path):
    """Recomputes content_sha256 the way the shard format defines it (length-prefixed fields), independently, and
    then the file's sha256 in SHARD.sha256 and manifest.json: a forgery that passes every checksum."""
    with h5py.File(path, "r+") as f:
        h = hashlib.sha256()

        def put(b):
            h.update(struct.pack("<Q", len(b)) + b)

        a = f.attrs
        for key in ("model_fingerprint", "dataset", "search_config"):
            put(a[key].encode())
        put(struct.pack("<q", int(a["num_layers"])))
        put(struct.pack("<q", f["features"].shape[3] if "features" in f else 0))
        for i in range(len(f["item_id"])):
            put(f["item_id"][i])
            put(struct.pack("<I", int(f["example_index"][i])))
            put(f["labels"][i].astype("<u1").tobytes())
            put(f["best_path"][i].astype("<i2").tobytes())
            for k in ("baseline_correct", "best_correct", "improved"):
                put(struct.pack("<B", int(f[k][i])))
            put(struct.pack("<I", int(f["num_evaluations"][i])))
            put(f["prompt_tokens"][i].astype("<i4").tobytes())
            for k in ("question", "gold", "best_response", "default_response", "good_paths"):
                put(f[k][i])
        f.attrs["content_sha256"] = h.hexdigest()
        if "features" in f:  # per row: its window count, then its features' float16 bytes
            h = hashlib.sha256()
            for i in range(len(f["item_id"])):
                put(struct.pack("<B", int(f["feature_windows"][i])))
                put(f["features"][i].astype("<f2").tobytes())
            f.attrs["features_sha256"] = h.hexdigest()
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    open(path + ".sha256", "w").write(digest + "\n")
    manifest_path = os.path.join(os.path.dirname(path), "manifest.json")
    manifest = json.load(open(manifest_path))
    for s in manifest["shards"]:
        if s["file"] == os.path.basename(path):
            s["sha256"] = digest
    json.dump(manifest, open(manifest_path, "w"))
