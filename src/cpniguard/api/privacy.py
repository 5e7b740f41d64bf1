"""The privacy office over HTTP: policy versions, complaints, data-broker actions, training."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
