//! The API's contract as OpenAPI 3.1, generated from [`ENDPOINTS`], the list
//! next to the router that says what each path takes, returns and who may call
//! it. `GET /api/v1/openapi.json` serves it.

use super::auth::Caller;
use axum::Json;
use serde_json::{json, Map, Value};

/// A parameter in the path or the query string.
pub struct Param {
    pub name: &'static str,
    pub query: bool,
    pub required: bool,
    /// JSON schema type: `string`, `integer` or `boolean`.
    pub kind: &'static str,
    pub description: &'static str,
    /// Further JSON schema keywords as a JSON object text, e.g. `{"maximum":100}`.
    pub constraints: &'static str,
}

pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub roles: &'static [&'static str],
    pub params: &'static [Param],
    pub body: Option<RequestBody>,
    /// Success status, content type and schema name.
    pub ok: (u16, &'static str, &'static str),
}

/// What a request may carry.
pub struct RequestBody {
    pub content_types: &'static [&'static str],
    /// A `#/components/schemas` name.
    pub schema: &'static str,
    pub required: bool,
}

const fn body(content_types: &'static [&'static str], schema: &'static str) -> Option<RequestBody> {
    Some(RequestBody {
        content_types,
        schema,
        required: true,
    })
}

const fn optional_body(
    content_types: &'static [&'static str],
    schema: &'static str,
) -> Option<RequestBody> {
    Some(RequestBody {
        content_types,
        schema,
        required: false,
    })
}

/// What the server takes for ids and cursors: an unsigned 64-bit number.
const ANY_U64: &str = r#"{"minimum":0,"maximum":18446744073709551615}"#;
/// A BG number in its canonical form (the server also reads `07450/0160367`).
const BG_NUMBER: &str = r#"{"pattern":"^[0-9]{5}BG[0-9]{7}$"}"#;
const KENNUNG_PATTERN: &str = "^[A-Za-z0-9._-]{1,32}$";

const fn path(name: &'static str, kind: &'static str, description: &'static str) -> Param {
    let constraints = if matches!(kind.as_bytes(), b"integer") {
        ANY_U64
    } else {
        ""
    };
    Param {
        name,
        query: false,
        required: true,
        kind,
        description,
        constraints,
    }
}

const fn query(name: &'static str, kind: &'static str, description: &'static str) -> Param {
    Param {
        name,
        query: true,
        required: false,
        kind,
        description,
        constraints: "",
    }
}

const fn limited(param: Param, constraints: &'static str) -> Param {
    Param {
        constraints,
        ..param
    }
}

const JSON_BODY: &[&str] = &["application/json"];
const CSV_BODY: &[&str] = &["text/csv"];
const JSON: &str = "application/json";
const READERS: &[&str] = &["caseworker", "clearing", "teamlead"];

pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint { method: "get", path: "/healthz", summary: "Liveness, or 503 with the reason the store cannot be written; the only call without a token.", roles: &[], params: &[], body: None, ok: (200, JSON, "Health") },
    Endpoint { method: "get", path: "/metrics", summary: "Prometheus metrics.", roles: &["admin", "auditor"], params: &[], body: None, ok: (200, "text/plain", "Text") },
    Endpoint { method: "get", path: "/api/v1/openapi.json", summary: "This document.", roles: &["any"], params: &[], body: None, ok: (200, JSON, "OpenApi") },
    Endpoint {
        method: "get",
        path: "/api/v1/postbox",
        summary: "The caller's postbox items (and those of colleagues they deputise for). Without `since` the current view; with `since` the changes after that cursor, long-polling up to `wait` seconds.",
        roles: READERS,
        params: &[
            limited(query("since", "integer", "Cursor of the previous answer."), ANY_U64),
            limited(query("wait", "integer", "Seconds to wait for a change (more than 60 count as 60)."), ANY_U64),
        ],
        body: None,
        ok: (200, JSON, "Poll"),
    },
    Endpoint {
        method: "post",
        path: "/api/v1/postbox/items/{id}/{action}",
        summary: "Change an item: start, done (zdA), forward (`to`, `note`), resubmit (`until`), correct (`bg`, `type`).",
        roles: READERS,
        params: &[
            path("id", "integer", "Item id."),
            limited(path("action", "string", "What to do."), r#"{"enum":["start","done","forward","resubmit","correct"]}"#),
        ],
        // start and done need no body.
        body: optional_body(JSON_BODY, "ItemChange"),
        ok: (200, JSON, "ItemChanged"),
    },
    Endpoint {
        method: "get",
        path: "/api/v1/search",
        summary: "German full-text search (words OCR-tolerant, \"phrases\", -exclusions) within what the caller may see, with filters and facet counts.",
        roles: READERS,
        params: &[
            Param { name: "q", query: true, required: true, kind: "string", description: "The search words.", constraints: r#"{"maxLength":1024}"# },
            limited(query("bg", "string", "Only this BG."), BG_NUMBER),
            query("type", "string", "Only this document type."),
            query("schlagwort", "string", "Only this Schlagwort."),
            query("site", "string", "Only this site."),
            limited(query("from", "string", "Received on or after this day (YYYY-MM-DD)."), r#"{"format":"date"}"#),
            limited(query("to", "string", "Received on or before this day."), r#"{"format":"date"}"#),
            limited(query("limit", "integer", "Hits per page, 1 to 100 (default 20)."), r#"{"minimum":1,"maximum":100}"#),
            limited(query("offset", "integer", "Hits to skip, at most 10000."), r#"{"minimum":0,"maximum":10000}"#),
        ],
        body: None,
        ok: (200, JSON, "SearchResults"),
    },
    Endpoint { method: "get", path: "/api/v1/documents/{id}", summary: "A document's metadata, classification, routing and pages.", roles: READERS, params: &[path("id", "integer", "Document id.")], body: None, ok: (200, JSON, "Document") },
    Endpoint { method: "get", path: "/api/v1/documents/{id}/text", summary: "A document's text, pages separated by form feeds.", roles: READERS, params: &[path("id", "integer", "Document id.")], body: None, ok: (200, "text/plain", "Text") },
    Endpoint { method: "get", path: "/api/v1/documents/{id}/original", summary: "The original bytes as received.", roles: READERS, params: &[path("id", "integer", "Document id.")], body: None, ok: (200, "*/*", "Binary") },
    Endpoint { method: "get", path: "/api/v1/akten/{bg}", summary: "An Akte: the BG's members and documents grouped by Schlagwort, newest first.", roles: &["caseworker", "teamlead"], params: &[limited(path("bg", "string", "BG number, e.g. 07450BG0160367."), BG_NUMBER)], body: None, ok: (200, JSON, "Akte") },
    Endpoint {
        method: "post",
        path: "/api/v1/akten/{bg}/documents",
        summary: "File an e-mail (message/rfc822, with attachments), a PDF (application/pdf) or a note (text/plain) under a Schlagwort.",
        roles: &["caseworker", "teamlead"],
        params: &[limited(path("bg", "string", "BG number."), BG_NUMBER), Param { name: "schlagwort", query: true, required: true, kind: "string", description: "Where to file it.", constraints: r#"{"minLength":1,"maxLength":100}"# }, query("type", "string", "Document type (default: by the rules)."), query("title", "string", "A name for the document.")],
        body: body(&["message/rfc822", "application/pdf", "text/plain"], "Binary"),
        ok: (201, JSON, "Filed"),
    },
    Endpoint {
        method: "get",
        path: "/api/v1/akten/{bg}/export",
        summary: "The Akte handed over: an xdomea 3.0.0 message Abgabe.Abgabe.0401 as a ZIP of the message and every original (application/zip), or with format=pdf one paginated PDF (application/pdf), whole or by receipt days and Schlagworte. Recorded in the audit trail with its scope, the receiving authority and the SHA-256 of the file (also sent as X-Eakte-Sha256).",
        roles: &["caseworker", "teamlead"],
        params: &[
            limited(path("bg", "string", "BG number."), BG_NUMBER),
            limited(query("format", "string", "xdomea (default)."), r#"{"enum":["xdomea","pdf"]}"#),
            Param { name: "empfaenger", query: true, required: true, kind: "string", description: "The receiving authority, e.g. Jobcenter Kiel.", constraints: r#"{"minLength":1}"# },
            query("empfaenger_einheit", "string", "Its organisational unit."),
            query("empfaenger_praefix", "string", "Its DVDV Präfix, e.g. ags."),
            query("empfaenger_schluessel", "string", "Its DVDV Behördenschlüssel."),
            limited(query("from", "string", "First receipt day (YYYY-MM-DD)."), r#"{"format":"date"}"#),
            limited(query("to", "string", "Last receipt day, not before from."), r#"{"format":"date"}"#),
            query("schlagwort", "string", "Only this Schlagwort (repeat for several)."),
            query("hinweis", "string", "A note to the receiver (Hinweis)."),
        ],
        body: None,
        ok: (200, "*/*", "Binary"),
    },
    Endpoint {
        method: "get",
        path: "/api/v1/akten/{bg}/deckblatt",
        summary: "The return cover sheet (Deckblatt) for a letter to the BG: a one-page PDF in German with the recipient's address, the BG number and a QR code (BG, the item the answer continues, the jobcenter, a check value made with the deployment's key). A scan behind it is routed to the BG with certainty; a sheet with a wrong check value sends it to clearing. Recorded in the audit trail.",
        roles: &["caseworker", "teamlead"],
        params: &[
            limited(path("bg", "string", "BG number."), BG_NUMBER),
            limited(query("vorgang", "integer", "The item (of this Akte) the answer continues."), ANY_U64),
        ],
        body: None,
        ok: (200, "application/pdf", "Binary"),
    },
    Endpoint {
        method: "post",
        path: "/api/v1/admin/import/xdomea",
        summary: "Take an Akte handed over as an xdomea 3.0.0 Abgabe.Abgabe.0401 (the ZIP as the body): all or nothing, filed into the BG the registry knows for its people (else the clearing postbox), one postbox item \"Akte übernommen\"; the answer carries the receipt Abgabe.ImportBestaetigen.0402. The same message again changes nothing (200 instead of 201).",
        roles: &["admin"],
        params: &[],
        body: body(&["application/zip", "application/octet-stream"], "Binary"),
        ok: (201, JSON, "Imported"),
    },
    Endpoint {
        method: "get",
        path: "/api/v1/audit",
        summary: "The audit trail, oldest first.",
        roles: &["auditor"],
        params: &[
            limited(query("after", "integer", "Entries after this sequence number."), ANY_U64),
            query("who", "string", "Exact user."),
            query("action", "string", "Exact action."),
            query("target", "string", "Part of the target."),
            limited(query("bg", "string", "Who saw what of this BG, when (§ 83 SGB X): entries that touched its social data, in any spelling of the number."), BG_NUMBER),
            query("searched", "string", "Searches whose query held all these words (recorded as keyed hashes, checked here)."),
            limited(query("from", "string", "RFC 3339 lower bound."), r#"{"format":"date-time"}"#),
            limited(query("to", "string", "RFC 3339 upper bound."), r#"{"format":"date-time"}"#),
            limited(query("limit", "integer", "1 to 1000 (default 100)."), r#"{"minimum":1,"maximum":1000}"#),
        ],
        body: None,
        ok: (200, JSON, "AuditEntries"),
    },
    Endpoint { method: "get", path: "/api/v1/admin/users", summary: "All users (never their tokens).", roles: &["admin"], params: &[], body: None, ok: (200, JSON, "Users") },
    Endpoint { method: "post", path: "/api/v1/admin/users", summary: "Create a user; the answer holds the token, shown only this once. With four eyes (the default) it waits for a second admin: 202 with the pending change.", roles: &["admin"], params: &[], body: body(JSON_BODY, "NewUser"), ok: (201, JSON, "User") },
    Endpoint { method: "post", path: "/api/v1/admin/users/{id}/revoke", summary: "Revoke a user's token.", roles: &["admin"], params: &[path("id", "integer", "User id.")], body: None, ok: (200, JSON, "User") },
    Endpoint { method: "post", path: "/api/v1/admin/recipients/import", summary: "Import recipients from a CSV body. One that would move a known recipient's BG to another caseworker waits for a second admin (202).", roles: &["admin"], params: &[query("dry_run", "boolean", "Report only.")], body: body(CSV_BODY, "Text"), ok: (200, JSON, "ImportReport") },
    Endpoint { method: "post", path: "/api/v1/admin/caseworkers/import", summary: "Import caseworkers and surname ranges from a CSV body; with changes, it waits for a second admin (202).", roles: &["admin"], params: &[query("dry_run", "boolean", "Report only.")], body: body(CSV_BODY, "Text"), ok: (200, JSON, "ImportReport") },
    Endpoint { method: "get", path: "/api/v1/admin/absences", summary: "All absences.", roles: &["admin"], params: &[], body: None, ok: (200, JSON, "Absences") },
    Endpoint { method: "post", path: "/api/v1/admin/absences", summary: "Record an absence with its deputy; waits for a second admin (202).", roles: &["admin"], params: &[], body: body(JSON_BODY, "NewAbsence"), ok: (201, JSON, "Absence") },
    Endpoint { method: "get", path: "/api/v1/admin/pending", summary: "Access changes waiting for a second admin.", roles: &["admin"], params: &[], body: None, ok: (200, JSON, "PendingChanges") },
    Endpoint { method: "post", path: "/api/v1/admin/pending/{id}/approve", summary: "Approve and carry out a pending change (not the admin who asked for it); answers the user with its token, the absence or the import report.", roles: &["admin"], params: &[path("id", "integer", "Pending change id.")], body: None, ok: (200, JSON, "Approved") },
    Endpoint { method: "post", path: "/api/v1/admin/pending/{id}/reject", summary: "Drop a pending change without carrying it out.", roles: &["admin"], params: &[path("id", "integer", "Pending change id.")], body: None, ok: (200, JSON, "PendingChange") },
    Endpoint { method: "delete", path: "/api/v1/admin/absences/{id}", summary: "Remove an absence.", roles: &["admin"], params: &[path("id", "integer", "Absence id.")], body: None, ok: (200, JSON, "Absence") },
];

/// What every free string of an answer is.
const PLAIN_TEXT: &str = "Plain text, never HTML; escape it before showing it.";

fn schemas() -> Value {
    let obj = |props: Value, required: &[&str]| json!({ "type": "object", "properties": props, "required": required });
    // Names, Schlagworte, facet keys and texts come from scans, e-mails and
    // callers: a client shows them as text, never as markup.
    let string =
        json!({ "type": "string", "contentMediaType": "text/plain", "description": PLAIN_TEXT });
    let nullable_string = json!({ "type": ["string", "null"], "contentMediaType": "text/plain", "description": PLAIN_TEXT });
    let integer = json!({ "type": "integer", "minimum": 0 });
    let kennung = json!({ "type": "string", "pattern": KENNUNG_PATTERN });
    let date = json!({ "type": "string", "format": "date" });
    // 1 to 64 characters, no control characters, not only spaces.
    let name = json!({ "type": "string", "minLength": 1, "maxLength": 64,
        "pattern": "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$" });
    // Each role names what it is bound to, and nothing else.
    let new_user = |role: &str, bound: Option<(&str, &Value)>| {
        let mut props = json!({ "name": name, "role": { "const": role } });
        for field in ["caseworker", "site", "team"] {
            props[field] = json!({ "type": "null" });
        }
        let mut required = vec!["name", "role"];
        if let Some((field, schema)) = bound {
            props[field] = schema.clone();
            required.push(field);
        }
        json!({ "type": "object", "additionalProperties": false, "properties": props, "required": required })
    };
    let non_empty = json!({ "type": "string", "minLength": 1 });
    json!({
        "Problem": obj(json!({ "type": string, "title": string, "status": { "type": "integer" }, "detail": string }), &["type", "title", "status", "detail"]),
        "Health": obj(json!({ "status": string }), &["status"]),
        "Text": string,
        "Binary": { "type": "string", "format": "binary" },
        "OpenApi": { "type": "object" },
        "Item": obj(json!({
            "id": integer, "document_id": integer, "postbox": string,
            "state": { "enum": ["new", "in_progress", "done"] },
            "urgent": { "type": "boolean" }, "urgent_reason": nullable_string,
            "doc_type": string, "schlagwort": string, "bg": nullable_string,
            "received_at": string, "resubmit_until": nullable_string,
            "route": { "type": "object" }, "history": { "type": "array" }, "seq": integer,
            "answers": integer,
        }), &["id", "document_id", "postbox", "state", "urgent", "received_at", "route", "history"]),
        "Listed": { "allOf": [{ "$ref": "#/components/schemas/Item" }, obj(json!({ "deputising_for": nullable_string }), &[])] },
        "Poll": obj(json!({
            "items": { "type": "array", "items": { "$ref": "#/components/schemas/Listed" } },
            "removed": { "type": "array", "items": integer },
            "cursor": integer,
        }), &["items", "removed", "cursor"]),
        "ItemChange": { "type": "object", "additionalProperties": false, "properties": { "to": string, "until": string, "bg": string, "type": string, "note": string } },
        "ItemChanged": { "oneOf": [
            { "$ref": "#/components/schemas/Item" },
            obj(json!({ "id": integer, "moved": { "const": true } }), &["id", "moved"]),
        ] },
        "Hit": obj(json!({
            "id": integer, "score": { "type": "number" }, "name": string, "site": nullable_string,
            "received_at": string, "bg": nullable_string, "doc_type": nullable_string,
            "schlagwort": nullable_string,
            // The one field that is markup, made safe by eakte.
            "snippet": { "type": "string", "contentMediaType": "text/html", "description": "The passage around the matches as HTML: the text escaped, matched words in <b>…</b>, nothing else." },
        }), &["id", "score", "name", "snippet"]),
        "SearchResults": obj(json!({
            "total": integer,
            "hits": { "type": "array", "items": { "$ref": "#/components/schemas/Hit" } },
            "facets": obj(json!({
                "doc_type": { "type": "object", "additionalProperties": integer },
                "schlagwort": { "type": "object", "additionalProperties": integer },
                "site": { "type": "object", "additionalProperties": integer },
            }), &["doc_type", "schlagwort", "site"]),
        }), &["total", "hits"]),
        "Document": obj(json!({
            "id": integer, "name": string, "site": nullable_string, "kind": string, "content_type": string,
            "size": integer, "sha256": string, "received_at": string, "stored_at": string,
            "classification": { "type": ["object", "null"] },
            "item": { "oneOf": [{ "$ref": "#/components/schemas/Item" }, { "type": "null" }] },
            "pages": { "type": "array", "items": obj(json!({
                "number": integer, "source": string, "confidence": { "type": ["number", "null"] },
                "rotation": integer, "characters": integer,
            }), &["number", "source", "rotation", "characters"]) },
            "attachments": { "type": "array", "items": integer },
            "arrivals": integer,
            "batch": obj(json!({
                "batch": integer, "part": integer, "parts": integer,
                "pages": { "type": "array", "items": integer },
            }), &["batch", "part", "parts", "pages"]),
            "opened_with": integer,
        }), &["id", "name", "kind", "size", "sha256", "received_at", "pages"]),
        "Akte": obj(json!({
            "bg": string,
            "members": { "type": "array", "items": { "type": "object" } },
            "schlagworte": { "type": "array", "items": obj(json!({
                "schlagwort": string,
                "documents": { "type": "array", "items": obj(json!({
                    "id": integer, "name": string, "doc_type": string, "kind": string,
                    "received_at": string, "attachments": { "type": "array", "items": integer },
                }), &["id", "name", "received_at"]) },
            }), &["schlagwort", "documents"]) },
        }), &["bg", "members", "schlagworte"]),
        "Imported": obj(json!({
            "prozess": string, "sender": { "type": "object" },
            "message_document": integer, "documents": { "type": "array", "items": integer },
            "bg": { "type": ["string", "null"] }, "postbox": { "type": "string" }, "item": { "type": ["integer", "null"] },
            "clearing": { "type": ["string", "null"] }, "already": { "type": "boolean" },
            "receipt_name": string, "receipt": string
        }), &["prozess", "message_document", "documents", "receipt"]),
        "Filed": { "type": "array", "items": obj(json!({ "document_id": integer, "name": string, "kind": string, "status": string }), &["document_id", "status"]) },
        "AuditEntries": { "type": "array", "items": obj(json!({
            "seq": integer, "at": string, "who": string, "role": nullable_string, "address": string,
            "action": string, "target": string, "outcome": string, "detail": nullable_string,
            "bgs": { "type": "array", "items": string },
            "prev": string, "hash": string,
        }), &["seq", "at", "who", "action", "target", "outcome", "prev", "hash"]) },
        "User": obj(json!({
            "id": integer, "name": string, "role": string, "caseworker": nullable_string, "site": nullable_string,
            "team": nullable_string, "created_at": string, "revoked_at": nullable_string, "token": string,
        }), &["id", "name", "role"]),
        "Users": { "type": "array", "items": { "$ref": "#/components/schemas/User" } },
        "NewUser": { "oneOf": [
            new_user("caseworker", Some(("caseworker", &kennung))),
            new_user("clearing", Some(("site", &non_empty))),
            new_user("teamlead", Some(("team", &non_empty))),
            new_user("admin", None),
            new_user("auditor", None),
        ] },
        "ImportReport": obj(json!({
            "added": integer, "changed": integer, "unchanged": integer, "accepted": integer,
            "rejected": { "type": "array", "items": obj(json!({ "line": integer, "reason": string }), &["line", "reason"]) },
            "notes": { "type": "array", "items": string }, "applied": { "type": "boolean" },
        }), &["added", "changed", "unchanged", "rejected", "applied"]),
        "NewAbsence": { "type": "object", "additionalProperties": false, "required": ["kennung", "from", "to", "deputy"], "properties": { "kennung": kennung, "from": date, "to": date, "deputy": kennung } },
        "Absence": obj(json!({ "id": integer, "kennung": string, "from": string, "to": string, "deputy": string }), &["id", "kennung", "from", "to", "deputy"]),
        "Absences": { "type": "array", "items": { "$ref": "#/components/schemas/Absence" } },
        "PendingChange": obj(json!({
            "id": integer, "change": { "type": "object", "properties": { "kind": { "enum": ["add_user", "add_absence", "import"] } }, "required": ["kind"] },
            "requested_by": integer, "requested_by_name": string, "requested_at": string,
        }), &["id", "change", "requested_by", "requested_by_name", "requested_at"]),
        "PendingChanges": { "type": "array", "items": { "$ref": "#/components/schemas/PendingChange" } },
        "Approved": { "anyOf": [
            { "$ref": "#/components/schemas/User" },
            { "$ref": "#/components/schemas/Absence" },
            { "$ref": "#/components/schemas/ImportReport" },
        ] },
    })
}

/// The OpenAPI document.
pub fn spec() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    let problem = |description: &str| json!({ "description": description, "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } });
    for e in ENDPOINTS {
        let parameters: Vec<Value> = e
            .params
            .iter()
            .map(|p| {
                let mut schema = json!({ "type": p.kind });
                if let Ok(Value::Object(extra)) = serde_json::from_str::<Value>(p.constraints) {
                    schema.as_object_mut().expect("an object").extend(extra);
                }
                json!({
                    "name": p.name, "in": if p.query { "query" } else { "path" },
                    "required": p.required, "description": p.description, "schema": schema,
                })
            })
            .collect();
        let (status, content_type, schema) = e.ok;
        let mut op = json!({
            "summary": e.summary,
            "description": if e.roles.is_empty() { "No authentication.".to_string() } else { format!("Roles: {}. Anyone else gets 404.", e.roles.join(", ")) },
            "parameters": parameters,
            "responses": {
                status.to_string(): { "description": "Success", "content": { content_type: { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } },
                "400": problem("Malformed request"),
                "401": problem("Missing or invalid token"),
                "404": problem("Not found, or not visible to the caller"),
                "405": problem("The path does not take this method"),
                "503": problem("The store cannot be written now (see /healthz)"),
            },
        });
        if e.method != "get" {
            op["responses"]["409"] = problem("Conflict with the current state");
        }
        if !e.roles.is_empty() {
            op["security"] = json!([{ "bearer": [] }]);
            op["responses"]["429"] = problem("Turned away for a while (repeated bad tokens from this address, too many long-polls of this user); see Retry-After");
        }
        // What widens access may wait for a second admin.
        if e.method == "post"
            && matches!(
                e.path,
                "/api/v1/admin/users"
                    | "/api/v1/admin/absences"
                    | "/api/v1/admin/recipients/import"
                    | "/api/v1/admin/caseworkers/import"
            )
        {
            op["responses"]["202"] = json!({ "description": "Waits for a second admin", "content": { JSON: { "schema": { "$ref": "#/components/schemas/PendingChange" } } } });
        }
        if e.path == "/api/v1/postbox" {
            op["responses"]["410"] =
                problem("The cursor is too old (or from another store): reload without `since`");
        }
        if let Some(RequestBody {
            content_types,
            schema,
            required,
        }) = &e.body
        {
            let content: Map<String, Value> = content_types
                .iter()
                .map(|t| {
                    (
                        t.to_string(),
                        json!({ "schema": { "$ref": format!("#/components/schemas/{schema}") } }),
                    )
                })
                .collect();
            op["requestBody"] = json!({ "required": required, "content": content });
            for (code, what) in [
                ("408", "Body sent too slowly"),
                ("413", "Body too large"),
                ("415", "Unsupported content type"),
                ("422", "Invalid content"),
            ] {
                op["responses"][code] = problem(what);
            }
        }
        paths.entry(e.path.to_string()).or_insert_with(|| json!({}))[e.method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "eakte", "version": env!("CARGO_PKG_VERSION"), "description": "E-Akte for jobcenters: postboxes, search, Akten, documents, uploads, audit. Every string in an answer is plain text, never HTML (the one exception, a search hit's `snippet`, is escaped text with `<b>` around matches): names, Schlagworte, facet keys and texts come from scans, e-mails and other callers, so a client escapes them before showing them. Answers carry `Cache-Control: no-store`, `X-Content-Type-Options: nosniff` and `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'`; originals are served as attachments with a sandboxing policy." },
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
        },
    })
}

pub async fn document(_caller: Caller) -> Json<Value> {
    Json(spec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_is_documented_with_its_schemas() {
        let spec = spec();
        let schemas = schemas();
        for e in ENDPOINTS {
            assert!(
                spec["paths"][e.path][e.method].is_object(),
                "{} {}",
                e.method,
                e.path
            );
            for name in [Some(e.ok.2), e.body.as_ref().map(|b| b.schema)]
                .into_iter()
                .flatten()
            {
                assert!(schemas.get(name).is_some(), "schema {name} for {}", e.path);
            }
        }
        // The router's paths (src/api/mod.rs) are exactly the documented ones.
        let routed: String = include_str!("mod.rs")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        for e in ENDPOINTS {
            assert!(
                routed.contains(&format!(".route(\"{}\"", e.path)),
                "{} is documented but not routed",
                e.path
            );
        }
        assert_eq!(
            routed.matches(".route(\"").count(),
            ENDPOINTS
                .iter()
                .map(|e| e.path)
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        );
    }
}
