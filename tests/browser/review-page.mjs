// The review page, checked in a real browser: the HTML that `tonetree script --format html`
// writes is what court staff and screen-reader users read, so each page is opened in headless
// Chromium, checked with axe-core, checked for horizontal scrolling when zoomed, and shot at
// 200% zoom for the reviewer's note.
//
// How the browser is driven: Chromium's DevTools protocol over --remote-debugging-pipe (the
// browser reads commands on its fd 3 and answers on fd 4, each message ended by a NUL). No
// port is opened at all, and no package beyond axe-core is needed. Name resolution is mapped
// to nothing and background networking is off, so the only things the pages can load are
// their own files; any other request is reported as a failure.
//
// Zoom: 200% browser zoom in a 1280 x 800 window is a 640 x 400 CSS-pixel viewport drawn at
// two device pixels per CSS pixel (Chromium's zoom changes devicePixelRatio the same way). So
// the check emulates exactly that (device scale 2, not CSS zoom), and the screenshots are
// 1280 x 800 pixels. Reflow is also checked at 400% (320 CSS pixels, WCAG 1.4.10).
//
// A check that cannot fail proves nothing, so a small known-bad page goes through the same
// steps first and must show the violations it was written to have; if it does not, axe is not
// really running and the whole check fails.
//
// Usage: node review-page.mjs --out DIR --known-bad BAD.html PAGE.html...
// Exit status: 0 all pages clean, 1 a page failed a check, 2 the harness itself failed.

import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

// The whole run, browser start to browser stop: a minute to start and a minute a page. A page
// takes 2 to 6 s on a 2-core machine busy with other builds; the bound stops a hang, never a
// slow pass.
const TIME_LIMIT_BASE_MS = 60_000;
const TIME_LIMIT_PAGE_MS = 60_000;
// How long the browser gets to close by itself before it is killed.
const CLOSE_GRACE_MS = 5_000;
// How long one command may wait for its answer (opening a page, running axe): enough on a
// busy machine, and a hang is then named by the step that hung.
const STEP_LIMIT_MS = 50_000;

// WCAG 2.0, 2.1 and 2.2 levels A and AA, and axe's best practices.
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

// What the known-bad page must show (see known-bad.html): each rule, in that colour scheme, on
// an element whose selector contains the given text. The dark one proves that the dark
// scheme really is emulated when axe runs.
const KNOWN_BAD = [
    { id: 'html-has-lang', scheme: 'light', at: 'html' },
    { id: 'image-alt', scheme: 'light', at: 'img' },
    { id: 'color-contrast', scheme: 'light', at: '#faint' },
    { id: 'color-contrast', scheme: 'dark', at: '#faint-in-the-dark' },
];
// ... and the one request it makes beyond its own file (to this machine, should blocking fail).
const KNOWN_BAD_REQUEST = 'http://127.0.0.1:9/';

// Window 1280 x 800 at 200% and at 400% zoom.
const ZOOM_200 = { width: 640, height: 400, deviceScaleFactor: 2, mobile: false };
const ZOOM_400 = { width: 320, height: 200, deviceScaleFactor: 4, mobile: false };

function parseArgs(argv) {
    const a = { out: null, knownBad: null, pages: [] };
    for (let i = 0; i < argv.length; i++) {
        if (argv[i] === '--out') a.out = argv[++i];
        else if (argv[i] === '--known-bad') a.knownBad = argv[++i];
        else a.pages.push(argv[i]);
    }
    if (!a.out || !a.knownBad || a.pages.length === 0) {
        process.stderr.write('usage: node review-page.mjs --out DIR --known-bad BAD.html PAGE.html...\n');
        process.exit(2);
    }
    return a;
}

// The browser binary itself, not Debian's /usr/bin/chromium wrapper: the wrapper adds
// extensions and flags of its own, and with the binary the PID we hold is the browser's.
function chromiumPath() {
    if (process.env.CHROMIUM) return process.env.CHROMIUM;
    for (const p of ['/usr/lib/chromium/chromium', '/usr/bin/chromium']) {
        try {
            accessSync(p, constants.X_OK);
            return p;
        } catch {
            /* try the next */
        }
    }
    return 'chromium';
}

/* ---- The browser and the protocol ---------------------------------------------------------- */

class Browser {
    constructor() {
        this.profile = mkdtempSync(join(tmpdir(), 'tonetree-review-'));
        const args = [
            '--headless',
            '--remote-debugging-pipe',
            `--user-data-dir=${this.profile}`,
            '--no-first-run',
            '--no-default-browser-check',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--disable-extensions',
            '--disable-default-apps',
            '--disable-breakpad',
            '--disable-crash-reporter',
            '--no-pings',
            '--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication',
            // Nothing resolves: no request can leave this machine even if one were made.
            '--host-resolver-rules=MAP * ~NOTFOUND',
            '--disable-gpu',
            // /dev/shm is small in containers; Chromium then crashes drawing large pages.
            '--disable-dev-shm-usage',
            '--force-color-profile=srgb',
            '--font-render-hinting=none',
            '--lang=en-US',
            'about:blank',
        ];
        // Chromium refuses to run as root with its sandbox; CI runs as root. The pages are
        // our own files, opened with the network mapped to nothing.
        if (process.getuid && process.getuid() === 0) args.unshift('--no-sandbox');
        // Its own process group, so that the browser and its helpers (renderer, GPU and
        // utility processes) are ended together, by the browser's PID. Its home is the
        // throw-away profile: Chromium's crash handler keeps a database under $HOME, and
        // nothing of a check should be left in the user's home.
        this.proc = spawn(chromiumPath(), args, {
            stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
            detached: true,
            env: {
                ...process.env,
                HOME: this.profile,
                XDG_CONFIG_HOME: join(this.profile, '.config'),
                XDG_CACHE_HOME: join(this.profile, '.cache'),
            },
        });
        this.pid = this.proc.pid;
        this.exited = false;
        this.exitPromise = new Promise((res) => {
            this.proc.on('exit', (code, signal) => {
                this.exited = true;
                res({ code, signal });
            });
        });
        this.proc.on('error', (e) => this.fail(new Error(`cannot start Chromium: ${e.message}`)));
        // Chromium is chatty on stderr; keep the end of it for when something goes wrong.
        this.stderr = '';
        this.proc.stderr.on('data', (d) => {
            this.stderr = (this.stderr + d.toString()).slice(-8000);
        });
        this.toBrowser = this.proc.stdio[3];
        this.fromBrowser = this.proc.stdio[4];
        this.nextId = 1;
        this.pending = new Map();
        this.listeners = [];
        this.buf = Buffer.alloc(0);
        this.fromBrowser.on('data', (d) => this.onData(d));
        this.fromBrowser.on('error', () => {});
        this.toBrowser.on('error', () => {});
        this.fromBrowser.on('close', () => this.fail(new Error('Chromium closed its pipe')));
    }

    onData(d) {
        this.buf = Buffer.concat([this.buf, d]);
        let end;
        while ((end = this.buf.indexOf(0)) >= 0) {
            const msg = JSON.parse(this.buf.subarray(0, end).toString('utf8'));
            this.buf = this.buf.subarray(end + 1);
            if (msg.id !== undefined) {
                const p = this.pending.get(msg.id);
                if (!p) continue;
                this.pending.delete(msg.id);
                if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
                else p.resolve(msg.result);
            } else {
                for (const l of [...this.listeners]) l(msg);
            }
        }
    }

    fail(err) {
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
    }

    send(method, params = {}, sessionId = undefined) {
        const id = this.nextId++;
        const msg = { id, method, params };
        if (sessionId) msg.sessionId = sessionId;
        return new Promise((resolve, reject) => {
            if (this.exited) {
                reject(new Error(`${method}: Chromium has exited`));
                return;
            }
            const timer = setTimeout(() => {
                this.pending.delete(id);
                reject(new Error(`${method}: no answer from Chromium in ${STEP_LIMIT_MS / 1000} s`));
            }, STEP_LIMIT_MS);
            const done = (f) => (v) => {
                clearTimeout(timer);
                f(v);
            };
            this.pending.set(id, { resolve: done(resolve), reject: done(reject), method });
            this.toBrowser.write(JSON.stringify(msg) + '\0');
        });
    }

    // The next event named method (on sessionId) after this call.
    waitFor(method, sessionId) {
        return new Promise((resolve, reject) => {
            const l = (msg) => {
                if (msg.method === method && msg.sessionId === sessionId) {
                    this.listeners.splice(this.listeners.indexOf(l), 1);
                    clearTimeout(timer);
                    resolve(msg.params);
                }
            };
            const timer = setTimeout(() => {
                this.listeners.splice(this.listeners.indexOf(l), 1);
                reject(new Error(`no ${method} from Chromium in ${STEP_LIMIT_MS / 1000} s`));
            }, STEP_LIMIT_MS);
            this.listeners.push(l);
        });
    }

    // Calls fn with every event until the function returned is called.
    on(fn) {
        this.listeners.push(fn);
        return () => {
            const i = this.listeners.indexOf(fn);
            if (i >= 0) this.listeners.splice(i, 1);
        };
    }

    // Ask the browser to close; if it has not gone within the grace time, kill its process
    // group (the browser's PID, see the spawn above). Then the crash handlers it started,
    // which leave the group (each in a session of its own): they are found by the profile
    // folder in their command line, which is this run's alone, and ended by their PIDs.
    async stop() {
        if (this.stopping) return this.stopping;
        this.stopping = this.stopNow();
        return this.stopping;
    }

    async stopNow() {
        if (!this.exited) {
            try {
                this.toBrowser.write(JSON.stringify({ id: this.nextId++, method: 'Browser.close' }) + '\0');
            } catch {
                /* the pipe may be gone already */
            }
            const timer = new Promise((res) => setTimeout(res, CLOSE_GRACE_MS, 'late'));
            if ((await Promise.race([this.exitPromise, timer])) === 'late') killGroup(this.pid);
        }
        // Helpers can outlive the browser by a moment; end any that are left in its group.
        killGroup(this.pid);
        await Promise.race([this.exitPromise, new Promise((res) => setTimeout(res, CLOSE_GRACE_MS))]);
        // The handlers end by themselves once the browser has gone; give them the grace time.
        for (let waited = 0; ; waited += 100) {
            const left = processesUsing(this.profile);
            if (left.length === 0) break;
            if (waited >= CLOSE_GRACE_MS) {
                for (const pid of left) {
                    try {
                        process.kill(pid, 'SIGKILL');
                    } catch {
                        /* gone meanwhile */
                    }
                }
                break;
            }
            await new Promise((res) => setTimeout(res, 100));
        }
        rmSync(this.profile, { recursive: true, force: true });
    }
}

// The PIDs of the processes whose command line names dir (the run's own profile folder).
function processesUsing(dir) {
    const pids = [];
    for (const name of readdirSync('/proc')) {
        if (!/^[0-9]+$/.test(name) || Number(name) === process.pid) continue;
        try {
            if (readFileSync(`/proc/${name}/cmdline`).includes(dir)) pids.push(Number(name));
        } catch {
            /* ended meanwhile, or not ours to read */
        }
    }
    return pids;
}

function killGroup(pid) {
    try {
        process.kill(-pid, 'SIGKILL');
    } catch {
        /* ESRCH: nothing left in the group */
    }
}

/* ---- One page ------------------------------------------------------------------------------- */

// Opens a page in a fresh tab and returns what was found: axe's violations (light and dark
// colour schemes), whether it scrolls sideways at 200% and 400%, requests that left the page's
// own files, and a screenshot at 200% of its top and of its second node.
async function checkPage(b, file, axeSource) {
    const { targetId } = await b.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId: s } = await b.send('Target.attachToTarget', { targetId, flatten: true });
    const found = { violations: [], overflow: [], requests: [], shots: {}, passes: {}, incomplete: [] };
    let unlisten = () => {};
    try {
        const url = pathToFileURL(resolve(file)).href;
        // A page that asks for anything but its own file fails; the request is blocked
        // before it is made, so the asking is all that happens.
        unlisten = b.on((msg) => {
            if (msg.sessionId !== s || msg.method !== 'Network.requestWillBeSent') return;
            const u = msg.params.request.url;
            if (!u.startsWith('file:') && !u.startsWith('data:') && !u.startsWith('about:'))
                found.requests.push(u);
        });
        await b.send('Network.enable', {}, s);
        await b.send('Network.setBlockedURLs', { urls: ['http://*', 'https://*', 'ws://*', 'wss://*', 'ftp://*'] }, s);
        await b.send('Page.enable', {}, s);
        await b.send('Emulation.setDeviceMetricsOverride', ZOOM_200, s);
        const loaded = b.waitFor('Page.loadEventFired', s);
        const nav = await b.send('Page.navigate', { url }, s);
        if (nav.errorText) throw new Error(`cannot open ${file}: ${nav.errorText}`);
        await loaded;

        const evaluate = async (expression) => {
            const r = await b.send(
                'Runtime.evaluate',
                { expression, awaitPromise: true, returnByValue: true },
                s,
            );
            if (r.exceptionDetails)
                throw new Error(
                    `in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`,
                );
            return r.result.value;
        };
        const overflow = () =>
            evaluate(
                '({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })',
            );

        for (const [zoom, metrics] of [['200%', ZOOM_200], ['400%', ZOOM_400]]) {
            await b.send('Emulation.setDeviceMetricsOverride', metrics, s);
            const w = await overflow();
            if (w.scroll > w.client)
                found.overflow.push(
                    `at ${zoom} zoom of a 1280 px window the page is ${w.scroll} CSS px wide in a ${w.client} px view: it scrolls sideways`,
                );
        }
        await b.send('Emulation.setDeviceMetricsOverride', ZOOM_200, s);

        await evaluate(axeSource + '\n;true');
        const hasAxe = await evaluate("typeof window.axe === 'object' && typeof window.axe.run === 'function'");
        if (!hasAxe) throw new Error('axe-core did not load into the page');
        for (const scheme of ['light', 'dark']) {
            await b.send(
                'Emulation.setEmulatedMedia',
                { media: 'screen', features: [{ name: 'prefers-color-scheme', value: scheme }] },
                s,
            );
            const r = await evaluate(`axe.run(document, {
                    runOnly: { type: 'tag', values: ${JSON.stringify(AXE_TAGS)} },
                    resultTypes: ['violations', 'incomplete'],
                }).then((r) => ({
                    passes: r.passes.length,
                    violations: r.violations.map((v) => ({
                        id: v.id, impact: v.impact, help: v.help, tags: v.tags.filter((t) => /^wcag|^best/.test(t)),
                        nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
                    })),
                    incomplete: r.incomplete.map((v) => ({ id: v.id, count: v.nodes.length })),
                }))`);
            found.passes[scheme] = r.passes;
            for (const v of r.violations) found.violations.push({ ...v, scheme });
            for (const v of r.incomplete) found.incomplete.push({ ...v, scheme });
        }
        await b.send('Emulation.setEmulatedMedia', { media: 'screen', features: [] }, s);

        // The top of the page, then its second node (the first a key leads to), each one
        // 1280 x 800 window at 200%.
        found.shots.top = (await b.send('Page.captureScreenshot', { format: 'png' }, s)).data;
        if (await evaluate("!!document.getElementById('n2')")) {
            await evaluate("document.getElementById('n2').scrollIntoView(); true");
            found.shots.node = (await b.send('Page.captureScreenshot', { format: 'png' }, s)).data;
        }
    } finally {
        unlisten();
        await b.send('Target.closeTarget', { targetId }).catch(() => {});
    }
    return found;
}

// The violations as lines to read. One found the same way in both colour schemes is listed
// once, "(light and dark colours)".
function report(f) {
    const lines = [];
    const merged = [];
    for (const v of f.violations) {
        const key = JSON.stringify([v.id, v.nodes]);
        const same = merged.find((m) => m.key === key);
        if (same) same.scheme += ' and ' + v.scheme;
        else merged.push({ ...v, key });
    }
    for (const v of merged) {
        lines.push(`  [${v.impact}] ${v.id} (${v.scheme} colours): ${v.help} [${v.tags.join(', ')}]`);
        for (const n of v.nodes.slice(0, 8)) {
            lines.push(`      at ${n.target}`);
            const why = (n.summary || '').split('\n').filter((l) => l.trim()).slice(1, 3);
            for (const w of why) lines.push(`         ${w.trim()}`);
        }
        if (v.nodes.length > 8) lines.push(`      ... and ${v.nodes.length - 8} more`);
    }
    for (const o of f.overflow) lines.push(`  [reflow] ${o}`);
    for (const r of f.requests) lines.push(`  [network] the page asked for ${r}`);
    return { lines, count: merged.length };
}

/* ---- The run -------------------------------------------------------------------------------- */

async function main() {
    const args = parseArgs(process.argv.slice(2));
    const axeSource = readFileSync(join(here, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
    const started = Date.now();
    const b = new Browser();
    let status = 0;

    const stopAndExit = async (code, why) => {
        if (why) process.stderr.write(`review-page: ${why}\n`);
        await b.stop();
        process.exit(code);
    };
    const limitMs = TIME_LIMIT_BASE_MS + TIME_LIMIT_PAGE_MS * (args.pages.length + 1);
    const limit = setTimeout(() => {
        stopAndExit(2, `still running after ${limitMs / 1000} s: stopped (browser PID ${b.pid})`);
    }, limitMs);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
        process.on(sig, () => stopAndExit(2, `${sig}: stopped (browser PID ${b.pid})`));

    try {
        await b.send('Browser.getVersion');

        // The self-check first: a page written to be wrong must be found wrong.
        const bad = await checkPage(b, args.knownBad, axeSource);
        const seen = bad.violations.flatMap((v) => v.nodes.map((n) => `${v.id} (${v.scheme}) at ${n.target}`));
        const missed = KNOWN_BAD.filter(
            (k) => !bad.violations.some(
                (v) => v.id === k.id && v.scheme === k.scheme && v.nodes.some((n) => n.target.includes(k.at)),
            ),
        ).map((k) => `${k.id} (${k.scheme}) at ${k.at}`);
        if (!bad.requests.some((u) => u.startsWith(KNOWN_BAD_REQUEST)))
            missed.push(`the request for ${KNOWN_BAD_REQUEST}`);
        if (missed.length || bad.overflow.length === 0 || !bad.passes.light || !bad.passes.dark) {
            process.stderr.write(
                `review-page: SELF-CHECK FAILED: ${args.knownBad} was made to fail, but the check ` +
                    `missed [${missed.join('; ')}]` +
                    (bad.overflow.length ? '' : ' and its sideways scroll') +
                    `; it found [${seen.join('; ')}]: the check is not working\n`,
            );
            await stopAndExit(2);
        }
        console.log(
            `review-page: self-check: ${basename(args.knownBad)} fails as it should ` +
                `(${KNOWN_BAD.map((k) => `${k.id} ${k.scheme}`).join(', ')}; scrolls sideways; asks the network)`,
        );

        for (const page of args.pages) {
            const f = await checkPage(b, page, axeSource);
            const name = basename(page, '.html');
            const shots = [];
            for (const [part, data] of Object.entries(f.shots)) {
                const path = join(args.out, `${name}.${part}.png`);
                writeFileSync(path, Buffer.from(data, 'base64'));
                shots.push(path);
            }
            const { lines, count } = report(f);
            const needs = [...new Set(f.incomplete.map((v) => v.id))];
            if (lines.length) {
                status = 1;
                console.log(`review-page: FAIL ${page}: ${count} axe violation(s), ` +
                    `${f.overflow.length} reflow and ${f.requests.length} network problem(s):`);
                for (const l of lines) console.log(l);
            } else {
                console.log(`review-page: ok ${page}: 0 violations (rules passed: ${f.passes.light} light, ${f.passes.dark} dark), ` +
                    `no sideways scroll at 200% or 400%` + (needs.length ? `; axe could not decide: ${needs.join(', ')}` : ''));
            }
            console.log(`    screenshots at 200% (device scale 2): ${shots.join(' ')}`);
        }
    } catch (e) {
        clearTimeout(limit);
        const tail = b.stderr.split('\n').slice(-15).join('\n');
        await stopAndExit(2, `${e.message}\n--- end of Chromium's output ---\n${tail}`);
    }
    clearTimeout(limit);
    console.log(`review-page: ${args.pages.length} page(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await stopAndExit(status);
}

main();
