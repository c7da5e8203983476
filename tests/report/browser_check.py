#!/usr/bin/env python3
"""browser_check.py PAGE SCREENSHOT [CHROMIUM]

Loads PAGE (a file on disk) in headless Chromium, driven through the
DevTools protocol over --remote-debugging-pipe (fd 3: commands in, fd 4:
events out, one JSON message per NUL), and fails (exit 1) on:
  * a console message of level error or assert, an uncaught exception, or a
    browser log entry of level error (e.g. "Failed to load resource");
  * a failed load (Network.loadingFailed), or any request that is not
    file:// or data: (the page must need no network);
  * an <img> that did not decode (complete with naturalWidth 0);
then takes a screenshot of the whole page into SCREENSHOT (PNG).
Exit 77 (CTest skip) when Chromium is not installed.
"""
import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

TIMEOUT = float(os.environ.get("BROWSER_TIMEOUT", "90"))


class Browser:
    def __init__(self, exe, profile):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def fds():   # in the child: fd 3 reads commands, fd 4 writes replies
            # Moved above 4 first: a pipe end may itself be fd 3 or 4.
            r, w = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10), fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(r, 3)
            os.dup2(w, 4)

        args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--user-data-dir=" + profile, "--remote-debugging-pipe", "--hide-scrollbars",
                "--disable-extensions", "--mute-audio", "about:blank"]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(profile, "stderr.log"), "wb"),
                                     preexec_fn=fds, pass_fds=(3, 4))   # kept after preexec_fn
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf, self.next_id, self.events = b"", 0, []
        self.deadline = time.time() + TIMEOUT

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.to_chrome, json.dumps(msg).encode() + b"\0")
        return self.next_id

    def recv(self, until):
        """Reads messages into self.events until until(msg) holds; returns that msg."""
        while True:
            while b"\0" in self.buf:
                raw, self.buf = self.buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "method" in msg:
                    self.events.append(msg)
                if until(msg):
                    return msg
            left = self.deadline - time.time()
            if left <= 0:
                raise TimeoutError("no answer from Chromium within %.0f s" % TIMEOUT)
            r, _, _ = select.select([self.from_chrome], [], [], left)
            if r:
                chunk = os.read(self.from_chrome, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the pipe (exit %s)" % self.proc.poll())
                self.buf += chunk

    def call(self, method, params=None, session=None):
        i = self.send(method, params, session)
        msg = self.recv(lambda m: m.get("id") == i)
        if "error" in msg:
            raise RuntimeError("%s: %s" % (method, msg["error"]))
        return msg.get("result", {})

    def close(self):
        try:
            self.send("Browser.close")
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    page, shot = os.path.abspath(sys.argv[1]), sys.argv[2]
    exe = sys.argv[3] if len(sys.argv) > 3 else (shutil.which("chromium") or shutil.which("chromium-browser"))
    if not exe or not os.access(exe, os.X_OK):
        print("SKIP: chromium is not installed (bash .ci/install-deps installs it)")
        return 77
    if not os.path.isfile(page):
        print("FAIL: %s does not exist" % page)
        return 1
    url = "file://" + page
    problems = []
    with tempfile.TemporaryDirectory(prefix="netc-chromium-") as profile:
        b = Browser(exe, profile)
        try:
            targets = b.call("Target.getTargets")["targetInfos"]
            target = next(t["targetId"] for t in targets if t["type"] == "page")
            s = b.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Runtime", "Log", "Network", "Page"):
                b.call(domain + ".enable", session=s)
            b.call("Emulation.setDeviceMetricsOverride",
                   {"width": 1280, "height": 1000, "deviceScaleFactor": 1, "mobile": False}, session=s)
            t0 = time.time()
            nav = b.call("Page.navigate", {"url": url}, session=s)
            if nav.get("errorText"):
                problems.append("navigation failed: " + nav["errorText"])
            b.recv(lambda m: m.get("method") == "Page.loadEventFired")
            # Every image decoded?  (naturalWidth 0 = broken.)
            res = b.call("Runtime.evaluate", {"expression":
                "JSON.stringify([document.images.length, Array.from(document.images)"
                ".filter(i => !i.complete || i.naturalWidth == 0).map(i => i.src)])",
                "returnByValue": True}, session=s)
            n_img, broken = json.loads(res["result"]["value"])
            for src in broken:
                problems.append("image did not load: " + src)
            m = b.call("Page.getLayoutMetrics", session=s)
            size = m.get("cssContentSize") or m["contentSize"]
            w, h = int(size["width"]), min(int(size["height"]), 16000)
            b.call("Emulation.setDeviceMetricsOverride",
                   {"width": 1280, "height": h, "deviceScaleFactor": 1, "mobile": False}, session=s)
            png = b.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True},
                         session=s)["data"]
            with open(shot, "wb") as f:
                f.write(base64.b64decode(png))
            load_s = time.time() - t0
        except Exception as e:
            problems.append("driving Chromium: %s" % e)
            n_img, w, h, load_s = 0, 0, 0, 0
        finally:
            b.close()
        for e in b.events:
            meth, p = e["method"], e.get("params", {})
            if meth == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                problems.append("console %s: %s" % (p["type"], " ".join(
                    str(a.get("value", a.get("description", ""))) for a in p.get("args", []))))
            elif meth == "Runtime.exceptionThrown":
                problems.append("exception: %s" % p["exceptionDetails"].get("text"))
            elif meth == "Log.entryAdded" and p["entry"].get("level") == "error":
                problems.append("log error: %s (%s)" % (p["entry"].get("text"), p["entry"].get("url", "")))
            elif meth == "Network.loadingFailed" and not p.get("canceled"):
                problems.append("load failed: %s" % p.get("errorText"))
            elif meth == "Network.requestWillBeSent":
                u = p["request"]["url"]
                if not (u.startswith("file://") or u.startswith("data:")):
                    problems.append("network request: " + u)
        n_req = sum(1 for e in b.events if e["method"] == "Network.requestWillBeSent")
    print("loaded %s in %.1f s: %d requests, %d images, page %dx%d px; screenshot %s"
          % (url, load_s, n_req, n_img, w, h, shot))
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
