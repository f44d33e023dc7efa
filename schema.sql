-- Frontdesk: the one schema.
--
-- Applied by numbered migrations at start (src/store/migrate.rs). Each block starting with a
-- line `-- migration: N` runs once, in order (all pending blocks in one transaction), after which
-- `PRAGMA user_version` is N. Never edit a released block: append a new one.
-- Every timestamp is milliseconds since the Unix epoch, UTC. Every id is a UUIDv4 as 32
-- lowercase hex digits.

-- migration: 1
CREATE TABLE organisations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

-- role_id: 1 = admin, 2 = supervisor, 3 = agent (a lower number outranks a higher one).
CREATE TABLE staff (
    id               TEXT PRIMARY KEY,
    organisation_id  TEXT NOT NULL REFERENCES organisations(id),
    email            TEXT NOT NULL,
    email_norm       TEXT NOT NULL UNIQUE,           -- lower-cased: emails are unique case-insensitively
    full_name        TEXT NOT NULL,
    display_name     TEXT,
    role_id          INTEGER NOT NULL CHECK (role_id IN (1, 2, 3)),
    password_hash    TEXT NOT NULL,                  -- argon2id PHC string
    disabled         INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER
);

CREATE TABLE visitors (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    email         TEXT,
    is_anonymous  INTEGER NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER
);

-- Opaque bearer tokens; only the SHA-256 of the token is stored.
CREATE TABLE access_tokens (
    token_hash   BLOB PRIMARY KEY,
    kind         TEXT NOT NULL CHECK (kind IN ('staff', 'visitor')),
    subject_id   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER
) WITHOUT ROWID;
CREATE INDEX access_tokens_subject ON access_tokens(kind, subject_id);

-- A chat is one conversation: it starts with a visitor's first message and ends when the room
-- is closed. status: 'unclaimed' (in the live queue), 'offline' (offline unclaimed queue),
-- 'claimed' (served by staff), 'ended'.
CREATE TABLE chats (
    id              TEXT PRIMARY KEY,
    visitor_id      TEXT NOT NULL REFERENCES visitors(id),
    status          TEXT NOT NULL CHECK (status IN ('unclaimed', 'offline', 'claimed', 'ended')),
    severity_level  INTEGER NOT NULL DEFAULT 0,
    flagged_at      INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER,
    ended_at        INTEGER
);
-- A visitor has at most one open chat.
CREATE UNIQUE INDEX chats_one_open_per_visitor ON chats(visitor_id) WHERE status <> 'ended';
CREATE INDEX chats_status ON chats(status);
CREATE INDEX chats_flagged ON chats(flagged_at) WHERE flagged_at IS NOT NULL;

-- The offline unclaimed queue, oldest first.
CREATE TABLE offline_queue (
    chat_id    TEXT PRIMARY KEY REFERENCES chats(id),
    queued_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- Who serves (or served) a chat. left_at IS NULL while serving.
CREATE TABLE chat_staff (
    chat_id    TEXT NOT NULL REFERENCES chats(id),
    staff_id   TEXT NOT NULL REFERENCES staff(id),
    joined_at  INTEGER NOT NULL,
    left_at    INTEGER
);
CREATE INDEX chat_staff_chat ON chat_staff(chat_id);
CREATE INDEX chat_staff_staff ON chat_staff(staff_id);

-- type_id: 0 = system, 1 = chat message. sender: staff id, or NULL for the visitor.
-- content: the client's JSON object, stored byte-for-byte as sent.
CREATE TABLE messages (
    id            TEXT PRIMARY KEY,
    chat_id       TEXT NOT NULL REFERENCES chats(id),
    sequence_num  INTEGER NOT NULL,
    type_id       INTEGER NOT NULL CHECK (type_id IN (0, 1)),
    sender        TEXT,
    content       TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    UNIQUE (chat_id, sequence_num)
);

CREATE TABLE tags (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created_at  INTEGER NOT NULL
);
CREATE TABLE chat_tags (
    chat_id  TEXT NOT NULL REFERENCES chats(id),
    tag_id   TEXT NOT NULL REFERENCES tags(id),
    PRIMARY KEY (chat_id, tag_id)
) WITHOUT ROWID;

-- Runtime settings changed from the console; values are JSON.
CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) WITHOUT ROWID;

-- migration: 2
-- Messages are read by (chat_id, sequence_num), never by id alone. A primary key on the random
-- UUIDv4 id put every insert on a random page of its index, so each commit rewrote hundreds of
-- pages: the load benchmark's bottleneck. The id stays (unique by construction), unindexed.
CREATE TABLE messages_v2 (
    id            TEXT NOT NULL,
    chat_id       TEXT NOT NULL REFERENCES chats(id),
    sequence_num  INTEGER NOT NULL,
    type_id       INTEGER NOT NULL CHECK (type_id IN (0, 1)),
    sender        TEXT,
    content       TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    UNIQUE (chat_id, sequence_num)
);
INSERT INTO messages_v2 (id, chat_id, sequence_num, type_id, sender, content, created_at)
    SELECT id, chat_id, sequence_num, type_id, sender, content, created_at FROM messages ORDER BY rowid;
DROP TABLE messages;
ALTER TABLE messages_v2 RENAME TO messages;

-- migration: 3
-- Idempotent sends (issue 12): a client may give each message its own id; a resend with the
-- same id from the same sender in the same chat is stored once. Partial: messages without one
-- (the seed's clients, system messages) cost nothing in this index.
ALTER TABLE messages ADD COLUMN client_msg_id TEXT;
CREATE UNIQUE INDEX messages_client_msg_id
    ON messages (chat_id, IFNULL(sender, ''), client_msg_id)
    WHERE client_msg_id IS NOT NULL;

-- migration: 4
-- Routing (issue 13): each staff member's capacity, set by admins, and their availability,
-- which survives a reload and a restart. Visitors' contact details left while nobody was
-- available go in the existing name/email columns.
ALTER TABLE staff ADD COLUMN max_chats INTEGER NOT NULL DEFAULT 3 CHECK (max_chats BETWEEN 0 AND 50);
ALTER TABLE staff ADD COLUMN availability TEXT NOT NULL DEFAULT 'available'
    CHECK (availability IN ('available', 'away'));

-- migration: 5
-- The conversation (issue 14). Message kinds 2 (attachment) and 3 (internal note, staff only):
-- SQLite cannot widen a CHECK, so the table is rebuilt as migration 2 did.
CREATE TABLE messages_v5 (
    id            TEXT NOT NULL,
    chat_id       TEXT NOT NULL REFERENCES chats(id),
    sequence_num  INTEGER NOT NULL,
    type_id       INTEGER NOT NULL CHECK (type_id IN (0, 1, 2, 3)),
    sender        TEXT,
    content       TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    client_msg_id TEXT,
    UNIQUE (chat_id, sequence_num)
);
INSERT INTO messages_v5 (id, chat_id, sequence_num, type_id, sender, content, created_at, client_msg_id)
    SELECT id, chat_id, sequence_num, type_id, sender, content, created_at, client_msg_id
    FROM messages ORDER BY rowid;
DROP TABLE messages;
ALTER TABLE messages_v5 RENAME TO messages;
CREATE UNIQUE INDEX messages_client_msg_id
    ON messages (chat_id, IFNULL(sender, ''), client_msg_id)
    WHERE client_msg_id IS NOT NULL;

-- Read receipts: the highest sequence_num read by the visitor and by staff (0: none).
ALTER TABLE chats ADD COLUMN visitor_read_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN staff_read_seq INTEGER NOT NULL DEFAULT 0;
-- The visitor's rating at the end, once.
ALTER TABLE chats ADD COLUMN rating TEXT CHECK (rating IN ('good', 'bad'));
ALTER TABLE chats ADD COLUMN rating_comment TEXT;
ALTER TABLE chats ADD COLUMN rated_at INTEGER;

-- Files sent in a chat, stored under <data>/attachments/<stored_name> (random). uploader_staff
-- NULL: the visitor sent it. Deleted with their chat.
CREATE TABLE attachments (
    id              TEXT PRIMARY KEY,
    chat_id         TEXT NOT NULL REFERENCES chats(id),
    uploader_staff  TEXT,
    name            TEXT NOT NULL,
    mime            TEXT NOT NULL,
    size            INTEGER NOT NULL,
    stored_name     TEXT NOT NULL UNIQUE,
    created_at      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX attachments_chat ON attachments(chat_id);

-- Canned replies: `/shortcut` in the composer expands to text. Managed by admins.
CREATE TABLE canned_replies (
    id          TEXT PRIMARY KEY,
    shortcut    TEXT NOT NULL UNIQUE,
    text        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER
) WITHOUT ROWID;

-- migration: 6
-- Staff profiles (issue 15): a job title shown to visitors beside the name ("Support lead"),
-- and a photo: a small square PNG made from the upload, kept here so a backup has it.
-- `avatar_at` is when it last changed (the photo's URL carries it, so caches refresh).
ALTER TABLE staff ADD COLUMN title TEXT;
ALTER TABLE staff ADD COLUMN avatar_at INTEGER;
CREATE TABLE staff_avatars (
    staff_id    TEXT PRIMARY KEY REFERENCES staff(id),
    png         BLOB NOT NULL
);

-- migration: 7
-- Email to visitors (issue 15). A link in the email of replies a visitor missed resumes the
-- conversation on any device: a random token, kept here only as its SHA-256 (like
-- access_tokens), usable until it expires (7 days), exchanged for a visitor access token.
CREATE TABLE resume_links (
    token_hash  BLOB PRIMARY KEY,
    visitor_id  TEXT NOT NULL REFERENCES visitors(id),
    chat_id     TEXT NOT NULL REFERENCES chats(id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX resume_links_visitor ON resume_links(visitor_id);
-- The transcript a visitor asked for at the end of the chat: sent once per chat.
ALTER TABLE chats ADD COLUMN transcript_sent_at INTEGER;
-- Emails waiting to be sent (or to be tried again), so a restart does not lose them: one row
-- per email from when the outbox takes it until it is sent or given up; `notice` is its JSON
-- (ids, not copies of people's details), `attempts` the tries so far.
CREATE TABLE email_outbox (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,
    notice      TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);

-- migration: 8
-- History and search (issue 16): the chat list pages newest first by (created_at, id) and filters
-- by visitor and by tag without reading every chat.
CREATE INDEX chats_created ON chats(created_at, id);
CREATE INDEX chats_visitor ON chats(visitor_id, created_at);
CREATE INDEX chat_tags_tag ON chat_tags(tag_id, chat_id);
-- Full-text search over what people wrote: chat messages, attachments' file names and notes.
-- Contentless (the text stays in `messages` alone); its rowid is the message's. The writer fills
-- it in batches when idle or before a search (store/search.rs), never on the chat path;
-- `indexed_rowid` is the last message it has looked at.
CREATE VIRTUAL TABLE message_search USING fts5(
    text, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE search_state (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_rowid  INTEGER NOT NULL
);
INSERT INTO search_state (id, indexed_rowid) VALUES (1, 0);

-- migration: 9
-- Web Push for staff (issue 15): the server's VAPID key pair (RFC 8292), made on first start
-- and kept, so the subscriptions browsers made with its public key stay good across restarts;
-- one row. `private_key` is the P-256 secret scalar (32 bytes); the public key follows from it.
CREATE TABLE push_vapid (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    private_key  BLOB NOT NULL,
    created_at   INTEGER NOT NULL
);
-- A browser's push subscription (`PushSubscription.toJSON()`) for a staff member: where to
-- POST and the keys to encrypt for (RFC 8291), base64url as the browser gave them. An endpoint
-- belongs to one browser profile; subscribing it again moves it to the caller. `last_error` is
-- the last failed delivery's sentence (NULL after a success).
CREATE TABLE push_subscriptions (
    id          TEXT PRIMARY KEY,
    staff_id    TEXT NOT NULL REFERENCES staff(id),
    endpoint    TEXT NOT NULL UNIQUE,
    p256dh      TEXT NOT NULL,
    auth        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    last_error  TEXT
) WITHOUT ROWID;
CREATE INDEX push_subscriptions_staff ON push_subscriptions(staff_id, created_at);

-- migration: 10
-- Webhooks (issue 16, product.md §8.12): an admin's HTTP endpoint told of chat events, signed
-- with its own secret. `events` is the subscribed event names, comma-separated.
CREATE TABLE webhooks (
    id          TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    events      TEXT NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    created_by  TEXT
) WITHOUT ROWID;
-- One event for one hook, and the durable outbox: `next_at` is when the next attempt is due,
-- NULL once finished (delivered, or given up after the last attempt); unfinished ones are
-- resumed after a restart. `body` is the exact JSON posted (signed anew at each attempt).
-- Only the last 50 finished deliveries of each hook are kept.
CREATE TABLE webhook_deliveries (
    id            TEXT PRIMARY KEY,
    hook_id       TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event         TEXT NOT NULL,
    body          TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       INTEGER,
    status        INTEGER,
    error         TEXT,
    created_at    INTEGER NOT NULL,
    delivered_at  INTEGER
) WITHOUT ROWID;
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries(hook_id, created_at);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_at) WHERE next_at IS NOT NULL;

-- migration: 11
-- Data protection (issue 16): who did what, for admins to read. One row per admin action
-- (settings, staff accounts, canned replies, a visitor's data deleted or exported) and per
-- retention run. `actor_id` NULL: the system or the CLI (`actor_name` says which); `detail` is
-- a JSON object (changed keys with old → new values, secrets only as "(changed)").
CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY,
    at           INTEGER NOT NULL,
    actor_id     TEXT,
    actor_name   TEXT NOT NULL,
    action       TEXT NOT NULL,
    target_kind  TEXT,
    target_id    TEXT,
    detail       TEXT NOT NULL DEFAULT '{}'
);
-- Chats ended before a date, for retention.
CREATE INDEX chats_ended ON chats(ended_at) WHERE ended_at IS NOT NULL;

-- migration: 12
-- Migration 5's `CHECK (type_id IN (0, 1, 2, 3))` made SQLite build a temporary index of the
-- four values for every inserted message (an IN list of more than two constants is looked up
-- in an ephemeral b-tree): callgrind counted ~20,000 extra instructions per message in the
-- writer, most of issue 14's cost per message. A range says the same for whole numbers with
-- two comparisons. SQLite cannot change a CHECK in place, so the table is rebuilt once more,
-- this time keeping each message's rowid: the search index (migration 8) is keyed by it.
CREATE TABLE messages_v12 (
    id            TEXT NOT NULL,
    chat_id       TEXT NOT NULL REFERENCES chats(id),
    sequence_num  INTEGER NOT NULL,
    type_id       INTEGER NOT NULL CHECK (type_id BETWEEN 0 AND 3),
    sender        TEXT,
    content       TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    client_msg_id TEXT,
    UNIQUE (chat_id, sequence_num)
);
INSERT INTO messages_v12 (rowid, id, chat_id, sequence_num, type_id, sender, content, created_at,
                          client_msg_id)
    SELECT rowid, id, chat_id, sequence_num, type_id, sender, content, created_at, client_msg_id
    FROM messages ORDER BY rowid;
DROP TABLE messages;
ALTER TABLE messages_v12 RENAME TO messages;
CREATE UNIQUE INDEX messages_client_msg_id
    ON messages (chat_id, IFNULL(sender, ''), client_msg_id)
    WHERE client_msg_id IS NOT NULL;

-- migration: 13
-- "Did this staff member serve this chat?" asks for both columns (the agent's view of the
-- history, the staff filter): with only one-column indexes SQLite looked up all of the staff
-- member's rows for each chat (the history bench: 10 s for one page over 100,000 chats).
CREATE INDEX chat_staff_pair ON chat_staff(chat_id, staff_id);
DROP INDEX chat_staff_chat;
