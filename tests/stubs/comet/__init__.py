"""A stand-in for unbabel-comet, for the interpreter that JASTER_COMET_PYTHON names in the tests: it logs
what it is asked to FAKE_COMET_LOG and scores a segment by the length of its translation."""
import json, os
LOG = os.environ["FAKE_COMET_LOG"]

def download_model(model):
    with open(LOG, "a") as f:
        f.write(json.dumps({"download": model}) + "\n")
    return "/fake/" + model + "/model.ckpt"

class _Output:
    def __init__(self, scores):
        self.scores = scores

class _Model:
    def predict(self, data, batch_size, gpus, progress_bar):
        print("Lightning would print progress here")  # must not corrupt the reply channel
        with open(LOG, "a") as f:
            f.write(json.dumps({"predict": len(data), "batch_size": batch_size, "gpus": gpus}) + "\n")
        return _Output([len(d["mt"]) / 10 for d in data])

def load_from_checkpoint(path):
    with open(LOG, "a") as f:
        f.write(json.dumps({"load": path}) + "\n")
    return _Model()
