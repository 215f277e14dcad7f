"""Link each chapter's first use of a glossary term to book/glossary.md.

For every chapter notebook and every term of the glossary, the first occurrence of one
of the term's phrases in the chapter's prose becomes ``{term}`phrase <Term>```. Text
inside code, maths, roles, links, headings and directive lines is left alone, and a
term the chapter already links is not linked again, so the script can run after every
edit. It changes markdown cells only; outputs are untouched.

    python tools/link_glossary.py              # every chapter
    python tools/link_glossary.py 12_efficient # some
    python tools/link_glossary.py --relink     # remove the links first, then link afresh
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "book" / "glossary.md"

# Phrases that count as a use of a term (matched case-insensitively, whole words),
# beyond the term itself and its plural.
EXTRA_PHRASES = {
    "Automatic differentiation": ["autodiff", "reverse-mode differentiation"],
    "Cross-entropy": ["cross-entropy loss"],
    "Data augmentation": ["augmentation"],
    "Generative adversarial network": ["GAN", "GANs"],
    "Gradient descent": ["stochastic gradient descent", "SGD"],
    "Knowledge distillation": ["distillation"],
    "LSTM": ["LSTMs", "long short-term memory"],
    "Mixed precision": ["mixed-precision"],
    "Quantisation": ["quantization"],
    "Recurrent neural network": ["RNN", "RNNs"],
    "Regularisation": ["regulariser", "regularisers"],
    "Saliency map": ["saliency"],
    "Spike-timing-dependent plasticity": ["STDP"],
    "Variational autoencoder": ["VAE", "VAEs"],
    "Variational quantum circuit": ["variational circuit", "variational circuits"],
    "Diffusion model": ["diffusion models", "denoising diffusion"],
    "Policy gradient": ["REINFORCE", "policy-gradient"],
    "Vanishing gradient": ["vanishing gradients"],
    "Activation function": ["activation functions"],
    "Gradient checkpointing": ["checkpointing", "activation checkpointing"],
    "Data parallelism": ["data-parallel", "data parallel"],
    "Gradient accumulation": ["accumulation"],
    "Adversarial example": ["adversarial examples", "FGSM"],
    "Message passing": ["message-passing"],
    "Hebbian learning": ["Hebbian", "Hebb's rule"],
    "Autoencoder": ["autoencoders"],
    "Barren plateau": ["barren plateaus"],
    "Parameter-shift rule": ["parameter shift", "parameter-shift"],
    "Qubit": ["qubits"],
}

# Spans where a link must not go: code, maths, roles, links, HTML, and whole lines
# that are headings, directive fences or directive options.
PROTECTED = re.compile(
    r"```.*?```|`[^`]*`|\$\$.*?\$\$|\$[^$\n]*\$|\{[\w:-]+\}`[^`]*`|\[[^\]]*\]\([^)]*\)|<[^>\n]+>"
    r"|^#[^\n]*$|^:::[^\n]*$|^:[\w-]+:[^\n]*$|^```[^\n]*$",
    re.S | re.M,
)


def glossary_terms(path: Path = GLOSSARY) -> list[str]:
    """The terms defined in the glossary directive (unindented lines inside it)."""
    text = path.read_text(encoding="utf-8")
    body = text.split("```{glossary}", 1)[1].split("```", 1)[0]
    return [line.strip() for line in body.splitlines() if line.strip() and not line.startswith((" ", "\t"))]


def phrases(term: str) -> list[str]:
    found = [term, term + "s"] + EXTRA_PHRASES.get(term, [])
    return sorted(set(found), key=len, reverse=True)  # longest first: "learning rates" before "learning rate"


def linked_terms(text: str) -> set[str]:
    out = set()
    for inner in re.findall(r"\{term\}`([^`]*)`", text):
        target = re.search(r"<([^>]*)>\s*$", inner)
        out.add((target.group(1) if target else inner).strip().lower())
    return out


def link_first(source: str, term: str) -> str | None:
    """``source`` with the first unprotected use of ``term`` linked, or None if there is none."""
    pattern = re.compile(r"(?<![\w-])(" + "|".join(re.escape(p) for p in phrases(term)) + r")(?![\w-])",
                         re.IGNORECASE)
    pos = 0
    for span in list(PROTECTED.finditer(source)) + [None]:
        end = span.start() if span else len(source)
        match = pattern.search(source, pos, end)
        if match:
            case_sensitive_ok = not match.group(1).isupper() or match.group(1) in phrases(term)
            if case_sensitive_ok:
                return (source[:match.start()] + f"{{term}}`{match.group(1)} <{term}>`" + source[match.end():])
        if span is None:
            return None
        pos = span.end()
    return None


def unlink(source: str) -> str:
    """``source`` with every ``{term}`phrase <Term>``` turned back into ``phrase``."""
    return re.sub(r"\{term\}`([^`<]*?)\s*<[^>]*>`", r"\1", source)


def link_chapter(path: Path, terms: list[str], relink: bool = False) -> int:
    nb = nbformat.read(path, as_version=4)
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    if not any(c.cell_type == "code" for c in nb.cells):
        return 0  # a placeholder
    if relink:
        for cell in markdown:
            cell.source = unlink(cell.source)
    already = linked_terms("\n".join(c.source for c in markdown))
    added = 0
    for term in terms:
        if term.lower() in already:
            continue
        for cell in markdown[1:]:  # the title cell's opening paragraph stays plain
            new = link_first(cell.source, term)
            if new is not None:
                cell.source = new
                added += 1
                break
    if added or relink:
        nbformat.write(nb, path)
    return added


def main(argv: list[str]) -> None:
    relink = "--relink" in argv
    argv = [a for a in argv if a != "--relink"]
    terms = glossary_terms()
    chapters = sorted((ROOT / "chapters").glob("*.ipynb"))
    if argv:
        chapters = [p for p in chapters if any(p.stem.startswith(a) or p.name == a for a in argv)]
    for path in chapters:
        print(f"{path.name}: linked {link_chapter(path, terms, relink)} glossary terms")


if __name__ == "__main__":
    main(sys.argv[1:])
