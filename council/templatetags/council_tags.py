from django import template

from council.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(text: str):
    """Render user-written Markdown (raw HTML disabled) for pages and PDFs."""
    return render_markdown(text)


@register.filter
def yen(value) -> str:
    """1234567 → "1,234,567円"."""
    if value in (None, ""):
        return "—"
    return f"{int(value):,}円"
