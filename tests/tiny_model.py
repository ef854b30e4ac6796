"""A tiny randomly initialised Llama with a character-level BPE tokenizer, built in-process (no download).

One token per character keeps encodings prefix-stable, so lm-eval's context/continuation split is exact
(``_encode_pair`` takes ``encode(ctx + cont)[len(encode(ctx)):]``; a plain byte-level BPE breaks this on Japanese).
Outputs are noise: assert on structure, never on scores.
"""

from __future__ import annotations

from pathlib import Path

CORPUS = [
    "以下は、タスクを説明する指示と、文脈のある入力の組み合わせです。要求を適切に満たす応答を書きなさい。",
    "### 指示:\n### 入力:\n### 応答:\n前提：仮説：質問：文章：選択肢：文1：文2：",
    "entailment contradiction neutral non-entailment yes no unknown undef positive negative",
    "0123456789.,-ー「」（）、。！？ひらがなカタカナ漢字東京大阪日本語",
]
CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")


def build_tiny_model(out_dir: Path, chat_template: str | None = CHAT_TEMPLATE) -> Path:
    import tokenizers
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=None, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(pattern=tokenizers.Regex(r"[\s\S]"), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=512, special_tokens=["<unk>", "<s>", "</s>", "<pad>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS, trainer=trainer)
    hf_tok = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>",
                                     pad_token="<pad>", clean_up_tokenization_spaces=False,
                                     model_input_names=["input_ids", "attention_mask"])
    if chat_template:
        hf_tok.chat_template = chat_template
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(hf_tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=4096,
                         bos_token_id=1, eos_token_id=2, pad_token_id=3, tie_word_embeddings=True)
    model = LlamaForCausalLM(config).eval()
    model.generation_config = GenerationConfig(bos_token_id=1, eos_token_id=2, pad_token_id=3, do_sample=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    hf_tok.save_pretrained(out_dir)
    return out_dir
