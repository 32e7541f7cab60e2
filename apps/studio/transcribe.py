"""Transcribe page: a recording (from the microphone, posted as WAV, or any file the
audio reader takes) -> its text, and the log-mel spectrogram the model read."""

from __future__ import annotations

from typing import Any

import torch
from fastapi import APIRouter, Request, UploadFile

from neocog.apps.speech import Transcriber

from .encode import spectrogram_url
from .safety import FormText, saved_upload, without_folder

router = APIRouter(prefix="/api/transcribe")


@router.post("")
def transcribe(request: Request, file: UploadFile, weights: FormText = "") -> dict[str, Any]:
    loaded = request.app.state.studio.models.get("speech", weights)
    tr: Transcriber = loaded.predictor
    with saved_upload(file, "recording.wav") as path:
        wave, note = tr.load(path)
        note = without_folder(note, path)
    with loaded.lock:
        text = tr.transcribe_wave(wave)
    return {"text": text, "note": note, "seconds": len(wave) / tr.mel.sample_rate,
            # (n_mels, frames) of every piece side by side: what the model read
            "spectrogram": spectrogram_url(torch.cat([s[0] for s in tr.spectrograms(wave)], 1))}
