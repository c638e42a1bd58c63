import Foundation

/// Front-shaped documents for the world's records. `base` is the sandbox's own base URL, used
/// for `_links` the way Front uses its company host.
extension FrontWorld {
    private func link(_ base: String, _ path: String) -> FrontJSON { .string(base + path) }

    func teammateJSON(_ i: Int, base: String) -> FrontJSON {
        let t = teammates[i]
        let id = FrontKind.teammate.id(i)
        return .object([
            (
                "_links",
                .object([
                    ("self", link(base, "/teammates/\(id)")),
                    (
                        "related",
                        .object([
                            ("inboxes", link(base, "/teammates/\(id)/inboxes")),
                            ("conversations", link(base, "/teammates/\(id)/conversations")),
                        ])
                    ),
                ])
            ),
            ("id", .string(id)),
            ("email", .string("\(t.first.lowercased()).\(t.last.lowercased())@sandbox-paper.example")),
            ("username", .string(t.first.lowercased() + String(i))),
            ("first_name", .string(t.first)),
            ("last_name", .string(t.last)),
            ("is_admin", .bool(t.isAdmin)),
            ("is_available", .bool(t.isAvailable)),
            ("is_blocked", .bool(false)),
            ("type", .string("user")),
            ("custom_fields", .object([])),
            ("license_type", .string("full")),
        ])
    }

    func teamJSON(_ i: Int, base: String) -> FrontJSON {
        let t = teams[i]
        let id = FrontKind.team.id(i)
        return .object([
            ("_links", .object([("self", link(base, "/teams/\(id)"))])),
            ("id", .string(id)),
            ("name", .string(t.name)),
            ("inboxes", .array(t.inboxes.map { inboxJSON($0, base: base) })),
            ("members", .array(t.members.map { teammateJSON($0, base: base) })),
        ])
    }

    func inboxJSON(_ i: Int, base: String) -> FrontJSON {
        let b = inboxes[i]
        let id = FrontKind.inbox.id(i)
        return .object([
            (
                "_links",
                .object([
                    ("self", link(base, "/inboxes/\(id)")),
                    (
                        "related",
                        .object([
                            ("teammates", link(base, "/inboxes/\(id)/teammates")),
                            ("conversations", link(base, "/inboxes/\(id)/conversations")),
                            ("channels", link(base, "/inboxes/\(id)/channels")),
                            ("owner", link(base, "/company")),
                        ])
                    ),
                ])
            ),
            ("id", .string(id)),
            ("name", .string(b.name)),
            ("is_private", .bool(false)),
            ("is_public", .bool(true)),
            ("address", .string(b.address)),
            ("send_as", .string(b.address)),
            ("type", .string("smtp")),
            ("custom_fields", .object([])),
        ])
    }

    func channelJSON(_ i: Int, base: String) -> FrontJSON {
        let c = channels[i]
        let id = FrontKind.channel.id(i)
        var related: [(String, FrontJSON)] = [("owner", link(base, "/company"))]
        if !inboxes.isEmpty { related.insert(("inbox", link(base, "/inboxes/\(FrontKind.inbox.id(c.inbox))")), at: 0) }
        return .object([
            ("_links", .object([("self", link(base, "/channels/\(id)")), ("related", .object(related))])),
            ("id", .string(id)),
            ("name", .string(c.name)),
            ("address", .string(c.address)),
            ("type", .string(c.type)),
            ("send_as", .string(c.address)),
            ("settings", .object([("undo_send_time", .int(15)), ("all_teammates_can_reply", .bool(false))])),
            ("is_private", .bool(false)),
            ("is_valid", .bool(true)),
        ])
    }

    func tagJSON(_ i: Int, base: String) -> FrontJSON {
        let t = tags[i]
        let id = FrontKind.tag.id(i)
        return .object([
            (
                "_links",
                .object([
                    ("self", link(base, "/tags/\(id)")),
                    (
                        "related",
                        .object([
                            ("conversations", link(base, "/tags/\(id)/conversations")),
                            ("owner", link(base, "/company")),
                            ("parent_tag", .null),
                            ("children", link(base, "/tags/\(id)/children")),
                        ])
                    ),
                ])
            ),
            ("id", .string(id)),
            ("name", .string(t.name)),
            ("description", .null),
            ("highlight", .str(t.highlight)),
            ("is_private", .bool(false)),
            ("is_visible_in_conversation_lists", .bool(true)),
            ("created_at", .time(t.createdAt)),
            ("updated_at", .time(t.updatedAt)),
        ])
    }

    func contactJSON(_ j: Int, base: String) -> FrontJSON {
        let c = contacts[j]
        let id = FrontKind.contact.id(j)
        var handles: [FrontJSON] = [.object([("handle", .string(c.email)), ("source", .string("email"))])]
        if let phone = c.phone { handles.append(.object([("handle", .string(phone)), ("source", .string("phone"))])) }
        return .object([
            (
                "_links",
                .object([
                    ("self", link(base, "/contacts/\(id)")),
                    (
                        "related",
                        .object([
                            ("notes", link(base, "/contacts/\(id)/notes")),
                            ("conversations", link(base, "/contacts/\(id)/conversations")),
                            ("owner", .null),
                        ])
                    ),
                ])
            ),
            ("id", .string(id)),
            ("name", .string(c.name)),
            ("description", .string("")),
            ("avatar_url", .null),
            ("links", .array([])),
            ("groups", .array([])),
            ("lists", .array([])),
            ("handles", .array(handles)),
            ("custom_fields", .object([])),
            ("is_private", .bool(false)),
            ("account", c.account.map { accountSummaryJSON($0, base: base) } ?? .null),
            ("created_at", .time(c.createdAt)),
            ("updated_at", .time(c.updatedAt)),
        ])
    }

    private func accountSummaryJSON(_ i: Int, base: String) -> FrontJSON {
        let id = FrontKind.account.id(i)
        return .object([
            ("_links", .object([("self", link(base, "/accounts/\(id)"))])), ("id", .string(id)),
            ("name", .string(accounts[i].name)),
        ])
    }

    func accountJSON(_ i: Int, base: String) -> FrontJSON {
        let a = accounts[i]
        let id = FrontKind.account.id(i)
        return .object([
            (
                "_links",
                .object([
                    ("self", link(base, "/accounts/\(id)")),
                    ("related", .object([("contacts", link(base, "/accounts/\(id)/contacts"))])),
                ])
            ),
            ("id", .string(id)),
            ("name", .string(a.name)),
            ("logo_url", .null),
            ("description", .null),
            ("domains", .array([.string(a.domain)])),
            ("external_id", .null),
            ("custom_fields", .object([])),
            ("created_at", .time(a.createdAt)),
            ("updated_at", .time(a.updatedAt)),
        ])
    }

    func conversationJSON(_ c: Int, base: String) -> FrontJSON {
        let v = conversations[c]
        let id = FrontKind.conversation.id(c)
        var recipient: FrontJSON = .null
        if !contacts.isEmpty {
            let contact = contacts[v.contact]
            recipient = .object([
                (
                    "_links",
                    .object([("related", .object([("contact", link(base, "/contacts/\(FrontKind.contact.id(v.contact))"))]))])
                ),
                ("name", .string(contact.name)),
                ("handle", .string(contact.email)),
                ("role", .string("from")),
            ])
        }
        let lastMessage: FrontJSON = v.lastMessage.map { link(base, "/messages/\(FrontKind.message.id($0))") } ?? .null
        return .object([
            (
                "_links",
                .object([
                    ("self", link(base, "/conversations/\(id)")),
                    (
                        "related",
                        .object([
                            ("events", link(base, "/conversations/\(id)/events")),
                            ("followers", link(base, "/conversations/\(id)/followers")),
                            ("messages", link(base, "/conversations/\(id)/messages")),
                            ("comments", link(base, "/conversations/\(id)/comments")),
                            ("inboxes", link(base, "/conversations/\(id)/inboxes")),
                            ("last_message", lastMessage),
                        ])
                    ),
                ])
            ),
            ("id", .string(id)),
            ("type", .string("conversation")),
            ("subject", .string(v.subject)),
            ("status", .string(v.status.rawValue)),
            ("ticket_ids", .array([])),
            ("assignee", v.assignee.map { teammateJSON($0, base: base) } ?? .null),
            ("recipient", recipient),
            ("tags", .array(v.tags.filter { tags[$0].deletedAt == nil }.map { tagJSON($0, base: base) })),
            ("links", .array([])),
            ("custom_fields", .object([])),
            ("is_private", .bool(false)),
            ("scheduled_reminders", .array([])),
            ("metadata", .object([])),
            ("created_at", .time(v.createdAt)),
            ("updated_at", .time(v.updatedAt)),
            ("waiting_since", v.waitingSince.map(FrontJSON.time) ?? .null),
        ])
    }

    func messageJSON(_ m: Int, base: String) -> FrontJSON {
        let msg = messages[m]
        let conv = FrontKind.conversation.id(msg.conversation)
        if msg.isComment {
            let id = FrontKind.comment.id(m)
            return .object([
                (
                    "_links",
                    .object([
                        ("self", link(base, "/comments/\(id)")),
                        ("related", .object([("conversation", link(base, "/conversations/\(conv)"))])),
                    ])
                ),
                ("id", .string(id)),
                ("author", msg.author.map { teammateJSON($0, base: base) } ?? .null),
                ("body", .string("Internal note \(m)")),
                ("posted_at", .time(msg.at)),
                ("attachments", .array([])),
            ])
        }
        let id = FrontKind.message.id(m)
        let contact = contacts.isEmpty ? nil : contacts[conversations[msg.conversation].contact]
        let other: FrontJSON = .object([
            ("handle", .string(contact?.email ?? "someone@mail.example")), ("role", .string(msg.inbound ? "from" : "to")),
        ])
        return .object([
            (
                "_links",
                .object([
                    ("self", link(base, "/messages/\(id)")),
                    ("related", .object([("conversation", link(base, "/conversations/\(conv)"))])),
                ])
            ),
            ("id", .string(id)),
            ("type", .string("email")),
            ("is_inbound", .bool(msg.inbound)),
            ("is_draft", .bool(false)),
            ("created_at", .time(msg.at)),
            (
                "blurb",
                .string(
                    msg.inbound
                        ? "Hello, I have a question about \(conversations[msg.conversation].subject)" : "Thanks for reaching out!"
                )
            ),
            ("author", msg.author.map { teammateJSON($0, base: base) } ?? .null),
            ("recipients", .array([other])),
            ("attachments", .array([])),
            ("metadata", .object([])),
        ])
    }

    func eventJSON(_ e: Int, base: String) -> FrontJSON {
        let ev = events[e]
        let id = FrontKind.event.id(e)
        func meta(_ type: String, _ data: FrontJSON) -> FrontJSON {
            .object([("_meta", .object([("type", .string(type))])), ("data", data)])
        }
        let actor: FrontJSON = ev.actor.map { meta("teammate", teammateJSON($0, base: base)) } ?? .null
        var source = actor
        var target: FrontJSON = .null
        switch ev.type {
        case .inbound:
            source =
                inboxes.isEmpty ? .null : meta("inboxes", .array([inboxJSON(conversations[ev.conversation].inbox, base: base)]))
            if let m = ev.target { target = meta("message", messageJSON(m, base: base)) }
        case .outbound, .outReply:
            if let m = ev.target { target = meta("message", messageJSON(m, base: base)) }
        case .comment:
            if let m = ev.target { target = meta("comment", messageJSON(m, base: base)) }
        case .assign, .unassign:
            if let t = ev.target { target = meta("teammate", teammateJSON(t, base: base)) }
        case .tag, .untag:
            if let t = ev.target { target = meta("tag", tagJSON(t, base: base)) }
        case .archive, .reopen:
            break
        }
        return .object([
            ("_links", .object([("self", link(base, "/events/\(id)"))])),
            ("id", .string(id)),
            ("type", .string(ev.type.rawValue)),
            ("emitted_at", .time(ev.at)),
            ("source", source),
            ("target", target),
            ("conversation", conversationJSON(ev.conversation, base: base)),
        ])
    }
}
