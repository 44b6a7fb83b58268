"""Answers as text (templates/answers/*.j2)."""

from __future__ import annotations

from bot.answers.model import SiteAnswer, WhyAnswer
from bot.digest.templating import render


def render_why(answer: WhyAnswer, tz: str = "UTC") -> str:
    return render("answers/why.j2", a=answer, tz=tz)


def render_site(answer: SiteAnswer, tz: str = "UTC") -> str:
    return render("answers/site.j2", a=answer, tz=tz)
