"""The annual CPNI certification over HTTP."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
