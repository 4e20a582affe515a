// A Haraka queue plugin for the "full filter" bench row: each message is written to a Maildir with the durability mailplane's delivery has, before the 250.
//
// Per message: write the message to tmp/ (LF line endings, the Maildir convention), fdatasync the
// file, close it, rename it into new/; then fsync of new/, shared by every rename made while the
// previous directory fsync ran (a group commit, as mailplane's MaildirStore does). Only then
// `next(OK)`: Haraka answers 250. Copied into the bench's Haraka instance as plugins/maildir_queue.js;
// the Maildir is $MAILPLANE_BENCH_MAILDIR.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

let sequence = 0;
/** Renames waiting for the next fsync of new/, and whether one is running. */
let waiting = [];
let syncing = false;

function syncNewDir(dir) {
  if (syncing || waiting.length === 0) return;
  syncing = true;
  const batch = waiting;
  waiting = [];
  const done = (err) => {
    syncing = false;
    for (const callback of batch) callback(err);
    syncNewDir(dir);
  };
  fs.open(dir, "r", (err, fd) => {
    if (err) return done(err);
    fs.fsync(fd, (syncErr) => fs.close(fd, () => done(syncErr)));
  });
}

exports.register = function () {
  this.maildir = process.env.MAILPLANE_BENCH_MAILDIR;
  for (const sub of ["tmp", "new", "cur"]) fs.mkdirSync(path.join(this.maildir, sub), { recursive: true });
};

exports.hook_queue = function (next, connection) {
  const name = `${Date.now()}.${process.pid}_${sequence++}.haraka.bench`;
  const tmp = path.join(this.maildir, "tmp", name);
  const fail = (err) => next(DENYSOFT, `Maildir write failed: ${err.message}`);
  fs.open(tmp, "wx", (err, fd) => {
    if (err) return fail(err);
    const out = fs.createWriteStream(null, { fd, autoClose: false });
    out.once("error", fail);
    out.once("finish", () => {
      fs.fdatasync(fd, (syncErr) => {
        fs.close(fd, () => {
          if (syncErr) return fail(syncErr);
          fs.rename(tmp, path.join(this.maildir, "new", name), (renameErr) => {
            if (renameErr) return fail(renameErr);
            waiting.push((dirErr) => (dirErr ? fail(dirErr) : next(OK)));
            syncNewDir(path.join(this.maildir, "new"));
          });
        });
      });
    });
    connection.transaction.message_stream.pipe(out, { line_endings: "\n" });
  });
};
