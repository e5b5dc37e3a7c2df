-- Users, sessions, links, tags, images, search, sync and the outbox.
-- Timestamps are unix epoch seconds (REAL) in both dialects: portable SQL, cheap comparisons.

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    email          TEXT NOT NULL,
    -- Lowercased address: one account per mailbox whatever the case it is typed in.
    email_key      TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    is_admin       BOOLEAN NOT NULL DEFAULT FALSE,
    disabled       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at     REAL NOT NULL,
    updated_at     REAL NOT NULL,
    -- Last change sequence number given to this user's links; bumping it locks the row, which
    -- orders the user's writers, so sequence order is commit order (the sync cursor).
    change_seq     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sessions (
    id             TEXT PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at     REAL NOT NULL,
    revoked_at     REAL,
    revoke_reason  TEXT
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Only hashes are stored. A used token names its successor; presenting it again is reuse.
CREATE TABLE refresh_tokens (
    token_hash     TEXT PRIMARY KEY,
    session_id     TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    created_at     REAL NOT NULL,
    expires_at     REAL NOT NULL,
    used_at        REAL,
    replaced_by    TEXT
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE links (
    -- SQLite only: a stable integer key for the full-text index (a bare rowid may change on
    -- VACUUM). The public id is the opaque, time-ordered text id.
    rid              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url              TEXT NOT NULL,
    url_hash         TEXT NOT NULL,
    canonical_url    TEXT,
    title            TEXT,
    title_edited     BOOLEAN NOT NULL DEFAULT FALSE,
    description      TEXT,
    author           TEXT,
    site_name        TEXT,
    lang             TEXT,
    published_at     REAL,
    kind             TEXT,
    image_url        TEXT,
    favicon_url      TEXT,
    mood             TEXT,
    difficulty       TEXT,
    note             TEXT,
    source           TEXT,
    favorite         BOOLEAN NOT NULL DEFAULT FALSE,
    archived         BOOLEAN NOT NULL DEFAULT FALSE,
    status           TEXT NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'scraping', 'scraped', 'completed', 'failed')),
    processing_error TEXT,
    retry_count      INTEGER NOT NULL DEFAULT 0,
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       REAL NOT NULL,
    updated_at       REAL NOT NULL,
    deleted_at       REAL,
    change_seq       INTEGER NOT NULL
);
-- One live link per URL and user; a deleted one stays behind as a tombstone for sync.
CREATE UNIQUE INDEX links_user_url ON links (user_id, url_hash) WHERE deleted_at IS NULL;
CREATE INDEX links_user_recent ON links (user_id, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX links_user_status ON links (user_id, status, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;
CREATE INDEX links_user_favorite ON links (user_id, created_at DESC, id DESC)
    WHERE deleted_at IS NULL AND favorite;
CREATE INDEX links_user_archived ON links (user_id, created_at DESC, id DESC)
    WHERE deleted_at IS NULL AND archived;
CREATE INDEX links_user_changes ON links (user_id, change_seq);

CREATE TABLE tags (
    id             INTEGER PRIMARY KEY,
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    -- Live links carrying the tag, kept by the triggers below so listing tags never counts.
    link_count     INTEGER NOT NULL DEFAULT 0,
    created_at     REAL NOT NULL,
    UNIQUE (user_id, name)
);

CREATE TABLE link_tags (
    link_id        TEXT NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    tag_id         INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    generated      BOOLEAN NOT NULL,
    confidence     REAL,
    -- The link's created_at, copied (it never changes) so a tag's links come newest first
    -- straight from link_tags_tag without touching links.
    created_at     REAL NOT NULL,
    PRIMARY KEY (link_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX link_tags_tag ON link_tags (tag_id, created_at DESC, link_id DESC);

CREATE TRIGGER link_tags_counted AFTER INSERT ON link_tags BEGIN
    UPDATE tags SET link_count = link_count + 1 WHERE id = NEW.tag_id;
END;
CREATE TRIGGER link_tags_uncounted AFTER DELETE ON link_tags BEGIN
    UPDATE tags SET link_count = link_count - 1 WHERE id = OLD.tag_id;
END;

CREATE TABLE stored_images (
    link_id        TEXT NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    variant        TEXT NOT NULL CHECK (variant IN ('original', 'small', 'medium', 'large')),
    bucket         TEXT NOT NULL,
    object_key     TEXT NOT NULL,
    width          INTEGER NOT NULL,
    height         INTEGER NOT NULL,
    bytes          INTEGER NOT NULL,
    sha256         TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    created_at     REAL NOT NULL,
    PRIMARY KEY (link_id, variant)
);

-- Pipeline stages finished per link and run (the link's retry_count when its job was queued):
-- a redelivered message finds its stage recorded and changes nothing.
CREATE TABLE link_stages (
    link_id        TEXT NOT NULL REFERENCES links (id) ON DELETE CASCADE,
    run            INTEGER NOT NULL,
    stage          TEXT NOT NULL,
    finished_at    REAL NOT NULL,
    PRIMARY KEY (link_id, run, stage)
);

-- Sync push: a change_id seen before answers its recorded result instead of applying again.
CREATE TABLE applied_changes (
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    change_id      TEXT NOT NULL,
    result         TEXT,
    applied_at     REAL NOT NULL,
    PRIMARY KEY (user_id, change_id)
);

-- Character-bigram keys per field (see repositories/textindex.py); rowid = links.rid. The owner
-- column holds one token, u_<user id>, so a search is scoped to its user inside the index.
CREATE VIRTUAL TABLE link_search USING fts5(
    owner, title, tags, description, note, url,
    tokenize = "unicode61 remove_diacritics 0 tokenchars '_'"
);

-- Jobs for a mailbox outside this database, written in the transaction that caused them.
CREATE TABLE outbox (
    id             INTEGER PRIMARY KEY,
    queue          TEXT NOT NULL,
    body           TEXT NOT NULL,
    msg_key        TEXT,
    priority       INTEGER NOT NULL DEFAULT 0,
    created_at     REAL NOT NULL
);
