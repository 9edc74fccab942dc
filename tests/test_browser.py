"""The built book in a real browser, with the network blocked.

Builds the HTML from the committed outputs (``tools/build_committed.py``),
serves it on localhost and opens every page of the table of contents in
headless Chromium (Debian's ``chromium`` and ``chromium-driver``, which
``make browser`` installs when missing; driven by selenium, nothing downloaded
at run time). Every host but 127.0.0.1 resolves to nothing, so anything the
book would fetch from outside (a CDN's MathJax, a web font, a badge image)
shows up as a failed request. On every page: no console error, no failed
request, no cell output showing an error, every image loaded with a non-zero
size, every equation typeset by MathJax and no raw ``$$`` left; on chapter
pages the Colab launch button and badge point at that chapter's notebook in
the repository of ``_config.yml``; the search page finds each chapter from a
word of its title. Screenshots of every page go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import os
import re
import shutil
import threading
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
#: a word from each chapter's title that the search page must find it by
SEARCH_WORDS = {"00_foundations": "Foundations", "01_koopman": "Koopman", "02_spline": "Splines",
                "03_probabilistic_bounds": "Probabilistic", "04_pruning_at_init": "chaos",
                "05_topology": "Topology", "06_lenses": "lenses"}


def _browser():
    """(chromium binary, chromedriver) or a reason why there is none."""
    if importlib.util.find_spec("selenium") is None:
        return None, "selenium is not installed (it is in the test extras: make test installs it)"
    chrome = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
                  None)
    driver = shutil.which("chromedriver")
    if driver is None and os.environ.get("CHROMEWEBDRIVER"):
        cand = Path(os.environ["CHROMEWEBDRIVER"]) / "chromedriver"
        driver = str(cand) if cand.exists() else None
    if chrome is None or driver is None:
        return None, ("no headless browser: install Chromium and ChromeDriver with `make browser` (Debian: "
                      "apt-get install chromium chromium-driver); the browser test is skipped without them")
    return (chrome, driver), None


def _pages():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    return [f + ".html" for f in files]


@pytest.fixture(scope="module")
def site(committed_book):
    found, why = _browser()
    if found is None:
        pytest.skip(why)
    rc, log, html = committed_book
    assert rc == 0, log

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        request_queue_size = 128      # a page asks for dozens of files at once; the default backlog is 5

    server = Server(("127.0.0.1", 0), functools.partial(Quiet, directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()

    os.environ["SE_OFFLINE"] = "true"      # selenium must not try to fetch a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = found[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1600", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service(found[1]))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver, f"http://127.0.0.1:{server.server_address[1]}/"
    driver.quit()
    server.shutdown()


def _problems(driver):
    """Console errors and failed or refused requests since the last call."""
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    failed = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.loadingFailed" and not msg["params"].get("canceled"):
            failed.append(f"{msg['params'].get('errorText')} ({msg['params'].get('requestId')})")
        elif msg["method"] == "Network.responseReceived" and msg["params"]["response"]["status"] >= 400:
            failed.append(f"{msg['params']['response']['status']} {msg['params']['response']['url']}")
    return errors, failed


PAGE_STATE = """
const done = arguments[arguments.length - 1];
// wait for MathJax to load (the page declares it on every page) and finish its first typeset, at most 30 s
const started = Date.now();
const ready = new Promise(resolve => {
  const poll = () => {
    if (!document.querySelector('script[src*="mathjax"]')) resolve('no math on this page');
    else if (window.MathJax && MathJax.startup && MathJax.startup.promise) MathJax.startup.promise.then(() => resolve('ready'));
    else if (Date.now() - started > 30000) resolve('late');
    else setTimeout(poll, 100);
  };
  poll();
});
const late = new Promise(resolve => setTimeout(() => resolve('late'), 30000));
Promise.race([ready, late]).then(flag => {
  const main = document.querySelector('article') || document.body;
  const imgs = Array.from(main.querySelectorAll('img'));
  const maths = Array.from(main.querySelectorAll('.math'));
  done({
    images: imgs.map(i => [i.getAttribute('src'), i.complete, i.naturalWidth, i.naturalHeight]),
    maths: maths.length,
    typeset: maths.filter(m => m.querySelector('mjx-container')).length,
    containers: main.querySelectorAll('mjx-container').length,
    raw: (main.innerText.match(/\\$\\$/g) || []).length,
    errors: Array.from(main.querySelectorAll('.output.traceback, .output.error')).map(e => e.innerText.slice(0, 200))
      .concat(Array.from(main.querySelectorAll('.output.stderr')).map(e => e.innerText)
      .filter(t => /Error|Traceback/.test(t)).map(t => t.slice(0, 200))),
    links: Array.from(document.querySelectorAll('a')).map(a => a.href),
    late: flag === 'late',
  });
});
"""


def test_every_page_loads_offline_with_figures_and_typeset_equations(site, capsys):
    from selenium.webdriver.support.ui import WebDriverWait

    driver, base = site
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    slug = cfg["repository"]["url"].rstrip("/").split("github.com/")[1]
    report, totals = [], {"pages": 0, "figures": 0, "equations": 0}
    driver.set_script_timeout(90)
    for page in _pages():
        for attempt in range(2):       # MathJax gets 30 s per load; a slow first load is retried once
            driver.get(base + page)
            WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
            state = driver.execute_async_script(PAGE_STATE)
            if not state["late"]:
                break
        errors, failed = _problems(driver)
        driver.save_screenshot(str(ARTIFACTS / (page.replace("/", "_").replace(".html", ".png"))))
        bad_images = [i for i in state["images"] if not i[1] or i[2] == 0 or i[3] == 0]
        problems = {"console errors": errors, "failed requests": failed, "images not loaded": bad_images,
                    "error outputs": state["errors"]}
        if state["late"]:
            problems["MathJax did not load and finish within 30 s, twice"] = [True]
        if state["typeset"] != state["maths"]:
            problems["equations not typeset"] = [f"{state['maths'] - state['typeset']} of {state['maths']}"]
        if state["raw"]:
            problems["raw $$ left"] = [state["raw"]]
        if page.startswith("chapters/"):
            nb = f"https://colab.research.google.com/github/{slug}/blob/main/chapters/{Path(page).stem}.ipynb"
            if state["links"].count(nb) < 2:      # the badge and the launch button
                problems["Colab links"] = [f"{state['links'].count(nb)} links to {nb}, expected 2"]
        report += [f"{page}: {k}: {v}" for k, v in problems.items() if v]
        totals["pages"] += 1
        totals["figures"] += len(state["images"])
        totals["equations"] += state["containers"]
    assert not report, "\n".join(report)
    assert totals["pages"] == len(_pages()) and totals["figures"] > 20 and totals["equations"] > 100
    with capsys.disabled():
        print(f"\nbrowser test, network blocked: {totals['pages']} pages, {totals['figures']} images loaded, "
              f"{totals['equations']} equations typeset by MathJax; screenshots in {ARTIFACTS}")


def test_search_finds_every_chapter_by_a_word_of_its_title(site):
    driver, base = site
    missing = []
    for stem, word in SEARCH_WORDS.items():
        driver.get(f"{base}search.html?q={word}")
        hits = []
        for _ in range(40):
            hits = driver.execute_script(
                "return Array.from(document.querySelectorAll('#search-results a')).map(a => a.href)")
            if any(f"chapters/{stem}.html" in h for h in hits):
                break
            time.sleep(0.25)
        if not any(f"chapters/{stem}.html" in h for h in hits):
            missing.append(f"{word!r} -> {hits[:5]}")
    _problems(driver)      # drain the logs
    assert set(SEARCH_WORDS) == {Path(p).stem for p in _pages() if p.startswith("chapters/")}
    assert not missing, "search did not find: " + "; ".join(missing)


def test_solutions_are_folded_and_open_on_a_click(site):
    """Every chapter's solutions and solution cells start folded; a click shows each one."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver, base = site
    report, opened = [], 0
    for page in [p for p in _pages() if p.startswith("chapters/")]:
        nb = (ROOT / page).with_suffix(".ipynb").read_text()
        expected = len(set(re.findall(r"\{admonition\} Solution (\d+)", nb)))
        driver.get(base + page)
        WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
        # sphinx-togglebutton folds the dropdowns from JavaScript once the page has loaded
        WebDriverWait(driver, 10).until(
            lambda d: not d.find_elements(By.CSS_SELECTOR, ".admonition.dropdown:not(.toggle)"))
        sols = [a for a in driver.find_elements(By.CSS_SELECTOR, ".admonition.dropdown")
                if re.match(r"Solution \d+", a.find_element(By.CSS_SELECTOR, ".admonition-title").text)]
        if expected < 5 or len(sols) != expected:
            report.append(f"{page}: {len(sols)} solution dropdowns on the page, {expected} in the notebook")
        for a in sols:
            title = a.find_element(By.CSS_SELECTOR, ".admonition-title").text.strip()
            body = a.find_elements(By.CSS_SELECTOR, ":scope > :not(.admonition-title)")
            if not body or any(b.is_displayed() for b in body):
                report.append(f"{page}: {title} is not folded when the page opens")
                continue
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", a)
            a.find_element(By.CSS_SELECTOR, "button.toggle-button").click()
            try:
                WebDriverWait(driver, 5).until(lambda d: all(b.is_displayed() for b in body))
                opened += 1
            except Exception:
                report.append(f"{page}: {title} did not open on a click")
        for cell in driver.find_elements(By.CSS_SELECTOR, ".tag_hide-cell details"):
            outs = cell.find_elements(By.CSS_SELECTOR, ".cell_output")
            if cell.get_attribute("open") is not None or any(o.is_displayed() for o in outs):
                report.append(f"{page}: a solution cell is not folded when the page opens")
                continue
            driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
            cell.find_element(By.CSS_SELECTOR, "summary").click()
            try:
                WebDriverWait(driver, 5).until(lambda d: outs and all(o.is_displayed() for o in outs))
                opened += 1
            except Exception:
                report.append(f"{page}: a solution cell did not open on a click (or has no output)")
    _problems(driver)      # drain the logs
    assert not report, "\n".join(report)
    assert opened >= 35
