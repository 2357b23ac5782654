// Microsoft's M parser's verdict on each probe: reads {"id": "M text", ...} as JSON on stdin and
// writes {"id": {"ok": true} | {"ok": false, "line": L, "column": C, "error": "..."}} on stdout
// (1-based line and column, in UTF-16 code units as the parser counts them).
// Run through scripts/regen_m_oracle.py, which installs the pinned package version first.
"use strict";
const PQP = require("@microsoft/powerquery-parser");

const settings = {
    ...PQP.DefaultSettings,
    // A mashup.pq is a section document: the same mode the Fabric service reads it in.
    parseBehavior: PQP.Parser.ParseBehavior.ParseSection,
};

function position(error) {
    // The first position the error carries, whatever its class (lex or parse, token or grapheme).
    const seen = new Set();
    const queue = [error];
    while (queue.length) {
        const value = queue.shift();
        if (!value || typeof value !== "object" || seen.has(value)) continue;
        seen.add(value);
        if (value.foundToken && value.foundToken.token) {
            const start = value.foundToken.token.positionStart;
            return { line: start.lineNumber + 1, column: start.lineCodeUnit + 1 };
        }
        for (const key of ["positionStart", "graphemePosition"]) {
            const p = value[key];
            if (p && typeof p.lineNumber === "number") {
                const column = p.lineCodeUnit !== undefined ? p.lineCodeUnit : p.columnNumber;
                return { line: p.lineNumber + 1, column: column + 1 };
            }
        }
        if (value.errorLineMap) {
            for (const [line, entry] of value.errorLineMap) {
                const inner = position(entry.error);
                return inner.line ? inner : { line: line + 1, column: null };
            }
        }
        for (const key of ["innerError", "error", "startToken", "firstUnusedToken", "missingOptionalToken", "token"]) {
            if (value[key]) queue.push(value[key]);
        }
    }
    return { line: null, column: null };
}

function lastPosition(text) {
    // Where "end of document" is: after the last character.
    const lines = text.split(/\r\n|\n|\r|\u2028|\u2029|\u0085/);
    return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

async function verdict(text) {
    const task = await PQP.TaskUtils.tryLexParse(settings, text);
    if (PQP.TaskUtils.isOk(task)) return { ok: true };
    const error = task.error;
    let where = position(error);
    const inner = error.innerError || error;
    if (where.line === null && inner && "foundToken" in inner && inner.foundToken === undefined) {
        where = lastPosition(text);
    }
    const name = (inner && inner.constructor && inner.constructor.name) || "Error";
    return { ok: false, line: where.line, column: where.column, error: name };
}

async function main() {
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    const probes = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    const out = {};
    for (const [id, text] of Object.entries(probes)) {
        try {
            out[id] = await verdict(text);
        } catch (crash) {
            out[id] = { ok: false, line: null, column: null, error: "crash: " + String(crash).slice(0, 80) };
        }
    }
    process.stdout.write(JSON.stringify(out));
}

main();
