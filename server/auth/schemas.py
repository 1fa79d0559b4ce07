from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from server.api.schemas import StrictModel

Password = Annotated[str, Field(min_length=8, max_length=256)]


class TokenResponse(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


class RefreshRequest(StrictModel):
    refresh_token: str = Field(min_length=10, max_length=200)


class PasswordChange(StrictModel):
    current_password: str = Field(max_length=256)
    new_password: Password
