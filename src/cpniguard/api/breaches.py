"""Breach incidents over HTTP: deadlines, the timeline, agency and customer notices."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
