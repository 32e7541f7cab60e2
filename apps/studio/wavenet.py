"""WaveNet page: generate a digit, or vocode an uploaded recording from its own log-mel;
the answer is a WAV file to play and download."""

from __future__ import annotations

import math
import re
from typing import Any

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import Response

from neocog.apps.wavenet import Synthesizer
from neocog.core.config import SEED_RANGE
from neocog.core.errors import NeocogError
from neocog.datasets.audio import read_audio

from .encode import wav_bytes
from .safety import FormInt, FormNumber, FormText, saved_upload

router = APIRouter(prefix="/api/wavenet")
MAX_SECONDS = 5.0  # generated or vocoded: about 2.5 s of compute per second at 8 kHz


def wav_response(wave: Any, rate: int, name: str) -> Response:
    """float32 (T,) at `rate` -> a WAV download; `name` goes into a header, which holds
    latin-1 only (an upload named in Japanese would be a 500), so it is made ASCII."""
    ascii_name = re.sub(r"[^\w.\-]", "_", name, flags=re.ASCII)
    return Response(wav_bytes(wave, rate), media_type="audio/wav",
                    headers={"Content-Disposition": f'attachment; filename="{ascii_name}"'})


def check_sampling(temperature: float, seed: int) -> None:
    """What `neocog wavenet generate` accepts (numpy seeds a negative or 2**32+ seed not)."""
    if not (math.isfinite(temperature) and temperature >= 0):
        raise NeocogError(f"temperature {temperature}: expected a number >= 0 (0 = argmax)")
    if not SEED_RANGE["min"] <= seed <= SEED_RANGE["max"]:
        raise NeocogError(f"seed {seed}: expected {SEED_RANGE['min']}..{SEED_RANGE['max']}")


@router.get("/names")
def names(request: Request, weights: str = "") -> dict[str, Any]:
    synth: Synthesizer = request.app.state.studio.models.get("wavenet", weights).predictor
    return {"speakers": synth.speakers, "labels": synth.labels, "sample_rate": synth.sample_rate}


@router.post("/generate")
def generate(request: Request, weights: FormText = "", seconds: FormNumber = 0.6,
             speaker: FormText = "", label: FormText = "", temperature: FormNumber = 1.0,
             seed: FormInt = 0) -> Response:
    if not 0 < seconds <= MAX_SECONDS:
        raise NeocogError(f"seconds {seconds}: expected more than 0 and at most {MAX_SECONDS}")
    check_sampling(temperature, seed)
    loaded = request.app.state.studio.models.get("wavenet", weights)
    synth: Synthesizer = loaded.predictor
    with loaded.lock:
        wave = synth.generate(seconds, speaker, label, temperature, seed)
    return wav_response(wave, synth.sample_rate, f"generated_{label or 'any'}_{seed}.wav")


@router.post("/vocode")
def vocode(request: Request, file: UploadFile, weights: FormText = "",
           speaker: FormText = "", seed: FormInt = 0) -> Response:
    check_sampling(1.0, seed)
    loaded = request.app.state.studio.models.get("wavenet", weights)
    synth: Synthesizer = loaded.predictor
    with saved_upload(file, "recording.wav") as path:
        audio = read_audio(path, synth.sample_rate)
        seconds = len(audio.samples) / synth.sample_rate
        if seconds > MAX_SECONDS:
            raise NeocogError(f"{path}: {seconds:.1f} s, over the {MAX_SECONDS:.0f} s vocoded at once")
        stem = path.stem
    with loaded.lock:
        wave = synth.vocode(audio.samples, speaker, seed=seed)
    return wav_response(wave, synth.sample_rate, f"vocoded_{stem}.wav")
