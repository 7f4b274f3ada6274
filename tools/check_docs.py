"""Check the built HTML documentation: links, images and a look in headless Chromium.

Usage::

    python tools/check_docs.py docs/_build/html [--screenshots OUT] [--chromium PATH]

1. Crawls every ``*.html`` page under the build folder (``_static/`` excepted) and
   checks that every internal link (``href``) and every image or script (``src``)
   resolves to an existing file, and that a link's ``#anchor`` exists as an ``id``
   (or ``name``) in the target page.
   External links (``http:``, ``mailto:``, ...) are not followed.
2. With ``--screenshots OUT``, takes screenshots of the front page and of one gallery
   example page with headless Chromium, and asks Chromium (``--dump-dom`` after the
   page's scripts ran) whether every ``<img>`` of those pages loaded (a script sets
   ``data-check-loaded`` on each image from ``naturalWidth``).

Exits 1 and lists the problems when a link, anchor or image is broken, or an image
did not load in Chromium; exits 0 otherwise.  Only the standard library is used.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
WINDOW = "1280,1600"


class _PageParser(HTMLParser):
    """Collects ids/names and the href/src references of one page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.refs = []  # (attribute, value, line)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(key):
                self.ids.add(attrs[key])
        for key in ("href", "src"):
            value = attrs.get(key)
            if value is None:
                continue
            self.refs.append((key, value, self.getpos()[0]))

    handle_startendtag = handle_starttag


def _parse(path):
    parser = _PageParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def check_links(root):
    """Broken internal references of every HTML page under ``root``.

    Parameters
    ----------
    root : path-like
        The HTML build folder.

    Returns
    -------
    problems : list of str
        ``"<page>:<line>: <attribute> <value>: <reason>"``, sorted; empty when every
        internal link, anchor and image resolves.
    n_pages : int
        Number of pages checked.
    """
    root = Path(root).resolve()
    # files under _static/ are assets (the theme ships Jinja macro files named
    # *.html there), not built pages
    pages = {page: _parse(page) for page in sorted(root.rglob("*.html"))
             if "_static" not in page.relative_to(root).parts}
    problems = []
    for page, parsed in pages.items():
        for attr, value, line in parsed.refs:
            where = f"{page.relative_to(root)}:{line}: {attr}={value!r}"
            parts = urlsplit(value)
            if parts.scheme or value.startswith("//"):
                continue  # external (http, https, mailto, data, javascript, ...)
            target = page
            if parts.path:
                target = (page.parent / unquote(parts.path)).resolve()
                if not target.exists():
                    problems.append(f"{where}: missing file")
                    continue
                if target.is_dir():
                    target = target / "index.html"
                    if not target.exists():
                        problems.append(f"{where}: folder without index.html")
                        continue
            anchor = unquote(parts.fragment)
            if anchor and attr == "href" and target.suffix == ".html":
                if target not in pages:
                    pages[target] = _parse(target)
                if anchor not in pages[target].ids:
                    problems.append(f"{where}: no anchor #{anchor} in "
                                    f"{target.relative_to(root)}")
    return sorted(set(problems)), len(pages)


_IMG_PROBE = """
<script>
window.addEventListener("load", function () {
  for (const img of document.images) {
    img.setAttribute("data-check-loaded",
                     img.complete && img.naturalWidth > 0 ? "yes" : "no");
  }
});
</script>
"""


def find_chromium(path=None):
    """The Chromium executable: ``path``, else chromium/chromium-browser on PATH."""
    for candidate in (path, "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    return None


def _chromium(chromium, args, timeout=90):
    with tempfile.TemporaryDirectory(prefix="check_docs_chromium_") as profile:
        cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def screenshot(chromium, page, png):
    """Screenshot of ``page`` (an HTML file) into ``png`` at 1280 x 1600."""
    png = Path(png).resolve()
    png.parent.mkdir(parents=True, exist_ok=True)
    result = _chromium(chromium, [f"--screenshot={png}", f"--window-size={WINDOW}",
                                  "--hide-scrollbars", Path(page).resolve().as_uri()])
    if not png.exists():
        raise RuntimeError(f"Chromium wrote no screenshot of {page}: "
                           f"{result.stderr[-2000:]}")
    return png


def images_not_loaded(chromium, page):
    """``src`` of the images of ``page`` that Chromium could not load.

    A copy of the page with a probe script is written beside it (so relative paths
    hold), loaded with ``--dump-dom`` and removed again.
    """
    page = Path(page).resolve()
    html = page.read_text(encoding="utf-8")
    probe = page.with_name(f".check_docs_probe_{os.getpid()}.html")
    probe.write_text(html.replace("</body>", _IMG_PROBE + "</body>", 1),
                     encoding="utf-8")
    try:
        result = _chromium(chromium, ["--dump-dom", "--virtual-time-budget=5000",
                                      f"--window-size={WINDOW}", probe.as_uri()])
    finally:
        probe.unlink(missing_ok=True)
    dom = _PageImages()
    dom.feed(result.stdout)
    if not dom.images:
        return ["<no image found in the DOM dumped by Chromium>"] if "<img" in html \
            else []
    return [src for src, loaded in dom.images if loaded != "yes"]


class _PageImages(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.images = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            attrs = dict(attrs)
            self.images.append((attrs.get("src"), attrs.get("data-check-loaded")))

    handle_startendtag = handle_starttag


def gallery_page(root):
    """The first gallery example page with a figure, or None."""
    for page in sorted(Path(root).glob("auto_examples/plot_*.html")):
        if "sphx-glr-single-img" in page.read_text(encoding="utf-8"):
            return page
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("build", help="the HTML build folder (docs/_build/html)")
    parser.add_argument("--screenshots", metavar="OUT",
                        help="write front-page and gallery-page screenshots here and "
                             "check in Chromium that their images loaded")
    parser.add_argument("--chromium", help="Chromium executable (default: "
                                           "/usr/bin/chromium or chromium on PATH)")
    args = parser.parse_args(argv)
    root = Path(args.build)
    if not (root / "index.html").exists():
        print(f"{root}: no index.html; build the docs first", file=sys.stderr)
        return 2

    problems, n_pages = check_links(root)
    print(f"checked {n_pages} pages: {len(problems)} broken link(s), anchor(s) or "
          f"image(s)")
    for problem in problems:
        print(f"  {problem}")

    if args.screenshots:
        chromium = find_chromium(args.chromium)
        if chromium is None:
            print("no Chromium found (apt-get install chromium); screenshots skipped",
                  file=sys.stderr)
            return 2
        out = Path(args.screenshots)
        targets = [("front_page", root / "index.html")]
        gallery = gallery_page(root)
        if gallery is None:
            problems.append("no gallery example page with a figure")
        else:
            targets.append(("gallery_" + gallery.stem, gallery))
        for name, page in targets:
            png = screenshot(chromium, page, out / f"{name}.png")
            missing = images_not_loaded(chromium, page)
            print(f"{png}: {page.relative_to(root)}, "
                  f"{'all images loaded' if not missing else 'NOT LOADED: '}"
                  f"{', '.join(map(str, missing))}")
            problems += [f"{page.relative_to(root)}: image not loaded in Chromium: "
                         f"{src}" for src in missing]
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
