"""What the code-generation datasets (MBPP-ja, JHumanEval) share: llm-jp-eval's instruction."""

INSTRUCTION = ("あなたはPythonを専門にするプログラマです。タスクは下記の通りであり、あなたが書いたコードは入力に"
               "書かれたテストケースを通過する必要があります。返答にはコードだけを平文で書いてください。```は"
               "入れないでください。")
