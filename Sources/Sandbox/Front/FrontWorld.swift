import Foundation

enum FrontEventType: String, Sendable, CaseIterable {
    case inbound, outbound
    case outReply = "out_reply"
    case comment, assign, unassign, tag, untag, archive, reopen

    var addsActivity: Bool { self == .inbound || self == .outbound || self == .outReply || self == .comment }
}

struct FrontEvent {
    var at: Int64
    var type: FrontEventType
    var conversation: Int
    var actor: Int?
    var target: Int?
}

/// Id prefixes and numeric offsets: an entity's number is `offset + index`, so an id string maps
/// back to its array slot without a dictionary.
enum FrontKind: String, Sendable, CaseIterable {
    case teammate = "tea_"
    case team = "tim_"
    case inbox = "inb_"
    case channel = "cha_"
    case tag = "tag_"
    case contact = "crd_"
    case account = "acc_"
    case conversation = "cnv_"
    case event = "evt_"
    case message = "msg_"
    case comment = "com_"

    var offset: Int {
        switch self {
        case .teammate: 46_656  // 36^3 → "tea_1000"
        case .team: 1_296
        case .inbox: 46_656
        case .channel: 46_656
        case .tag: 1_679_616  // 36^4
        case .contact: 60_466_176  // 36^5
        case .account: 1_679_616
        case .conversation: 60_466_176
        case .event: 2_176_782_336  // 36^6
        case .message: 2_176_782_336
        case .comment: 60_466_176
        }
    }

    func id(_ index: Int) -> String { rawValue + FrontBase36.encode(offset + index) }

    /// The array index an id names, if it has this kind's prefix and is in `0..<count`.
    func index(of id: String, count: Int) -> Int? {
        guard id.hasPrefix(rawValue), let n = FrontBase36.decode(id.dropFirst(rawValue.count)) else { return nil }
        let i = n - offset
        return (0..<count).contains(i) ? i : nil
    }
}

/// The records, namespaced so the Fivetran stand-in in the same module can use the same words.
extension FrontWorld {
    enum ConversationStatus: String, Sendable, CaseIterable {
        case unassigned, assigned, archived, deleted
    }

    struct Teammate {
        var first: String
        var last: String
        var isAdmin: Bool
        var isAvailable: Bool
    }
    struct Team {
        var name: String
        var members: [Int]
        var inboxes: [Int]
    }
    struct Inbox {
        var name: String
        var address: String
    }
    struct Channel {
        var name: String
        var address: String
        var type: String
        var inbox: Int
    }
    struct Tag {
        var name: String
        var highlight: String?
        var createdAt: Int64
        var updatedAt: Int64
        var deletedAt: Int64?
    }
    struct Contact {
        var name: String
        var email: String
        var phone: String?
        var createdAt: Int64
        var updatedAt: Int64
        var account: Int?
    }
    struct Account {
        var name: String
        var domain: String
        var createdAt: Int64
        var updatedAt: Int64
    }
    /// A message or a comment: what `search`'s `after:`/`before:` match on.
    struct Message {
        var conversation: Int
        var at: Int64
        var inbound: Bool
        var author: Int?
        var isComment: Bool
    }
    struct Conversation {
        var subject: String
        var status: ConversationStatus
        var assignee: Int?
        var tags: [Int]
        var inbox: Int
        var contact: Int
        var createdAt: Int64
        var updatedAt: Int64
        var waitingSince: Int64?
        var lastActivity: Int64
        var lastMessage: Int?
    }
}

/// The sandbox's whole Front company, in memory: seeded deterministically, then changed by the
/// `/_sandbox/` hooks. Events and activities are append-only and kept in time order, so time
/// filters are binary searches; the mutable orders (conversations by `updated_at`, contacts) are
/// re-sorted lazily, only after a change.
struct FrontWorld {
    var companyName = "Sandbox Paper Company"
    var teammates: [Teammate] = []
    var teams: [Team] = []
    var inboxes: [Inbox] = []
    var channels: [Channel] = []
    var tags: [Tag] = []
    var contacts: [Contact] = []
    var accounts: [Account] = []
    var conversations: [Conversation] = []
    var messages: [Message] = []
    /// Emission order = time order = id order.
    var events: [FrontEvent] = []
    /// (time, conversation) of every message and comment, in time order.
    var activities: [(at: Int64, conversation: Int)] = []

    /// Last instant handed out; every new change is strictly later, so ids and times stay monotonic.
    var lastTick: Int64 = 0
    var mutationRNG: SeededRandom

    private var conversationsByUpdatedCache: [Int]?
    private var contactsByUpdatedCache: [Int]?
    private var contactsByCreatedCache: [Int]?

    struct Size: Sendable {
        var conversations: Int, eventsPerConversation: Int, contacts: Int, tags: Int
        var teammates: Int, teams: Int, inboxes: Int, channels: Int, accounts: Int
    }

    init(size: Size, seed: UInt64, startMs: Int64, spanMs: Int64) {
        mutationRNG = SeededRandom.front(seed: seed ^ 0xA5A5_5A5A)
        var rng = SeededRandom.front(seed: seed)
        seedStatic(size: size, rng: &rng, startMs: startMs)
        seedContacts(count: size.contacts, rng: &rng, startMs: startMs, spanMs: spanMs)
        seedConversations(size: size, rng: &rng, startMs: startMs, spanMs: spanMs)
        lastTick = max(lastTick, startMs)
    }

    // MARK: seeding

    private static let firstNames = [
        "Ada", "Blake", "Carmen", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Liam", "Mara", "Nils",
        "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Victor", "Wen", "Yusuf", "Zoe",
    ]
    private static let lastNames = [
        "Okafor", "Lindqvist", "Moreau", "Tanaka", "Rossi", "Novak", "Haddad", "Schmidt", "Silva", "Kowalski", "Byrne",
        "Nakamura", "Petrov", "Costa", "Meyer", "Jensen", "Ali", "Brooks",
    ]
    private static let companies = [
        "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Soylent", "Wonka",
        "Gringotts", "Oscorp", "Aperture",
    ]
    private static let subjects = [
        "Invoice question", "Order delayed", "Password reset", "Refund request", "Feature request", "Bug report",
        "Shipping address change", "Cancel subscription", "Upgrade plan", "Login problem", "Damaged item", "Partnership inquiry",
        "API access", "Billing error", "Onboarding help",
    ]
    private static let tagWords = [
        "urgent", "billing", "vip", "bug", "refund", "sales", "churn-risk", "feedback", "shipping", "enterprise", "onboarding",
        "escalated", "spam", "partner", "legal",
    ]
    private static let highlights = ["grey", "pink", "red", "orange", "yellow", "green", "light-blue", "blue", "purple"]
    private static let teamNames = ["Support", "Sales", "Success", "Billing", "Operations", "Engineering"]

    private mutating func seedStatic(size: Size, rng: inout SeededRandom, startMs: Int64) {
        for i in 0..<size.teammates {
            teammates.append(
                Teammate(
                    first: Self.firstNames[i % Self.firstNames.count],
                    last: Self.lastNames[(i * 7 + 3) % Self.lastNames.count] + (i >= Self.firstNames.count ? "\(i)" : ""),
                    isAdmin: i == 0 || rng.chance(0.15), isAvailable: rng.chance(0.8)))
        }
        for i in 0..<size.inboxes {
            let name = i < Self.teamNames.count ? Self.teamNames[i] : "Inbox \(i + 1)"
            inboxes.append(
                Inbox(name: name, address: "\(name.lowercased().replacingOccurrences(of: " ", with: "-"))@sandbox-paper.example"))
        }
        for i in 0..<size.channels {
            let inbox = size.inboxes == 0 ? 0 : i % size.inboxes
            let type = i < size.inboxes ? "smtp" : rng.pick(["gmail", "office365", "front_chat", "twilio", "custom"])
            let base =
                size.inboxes == 0 ? "channel\(i)" : inboxes[inbox].name.lowercased().replacingOccurrences(of: " ", with: "-")
            channels.append(
                Channel(name: "\(base) (\(type))", address: "\(base)+\(i)@sandbox-paper.example", type: type, inbox: inbox))
        }
        for i in 0..<size.teams {
            let name = i < Self.teamNames.count ? Self.teamNames[i] + " team" : "Team \(i + 1)"
            let members =
                size.teammates == 0 ? [] : (0..<size.teammates).filter { $0 % max(1, size.teams) == i % max(1, size.teams) }
            let boxes = size.inboxes == 0 ? [] : (0..<size.inboxes).filter { $0 % max(1, size.teams) == i % max(1, size.teams) }
            teams.append(Team(name: name, members: members, inboxes: boxes))
        }
        for i in 0..<size.tags {
            let word = Self.tagWords[i % Self.tagWords.count] + (i >= Self.tagWords.count ? "-\(i / Self.tagWords.count)" : "")
            let created = startMs - Int64(size.tags - i) * 3_600_000 - Int64(rng.int(0..<3_600_000))
            tags.append(
                Tag(
                    name: word, highlight: rng.chance(0.6) ? rng.pick(Self.highlights) : nil, createdAt: created,
                    updatedAt: created + (rng.chance(0.3) ? Int64(rng.int(1..<86_400_000)) : 0), deletedAt: nil))
        }
        for i in 0..<size.accounts {
            let name =
                Self.companies[i % Self.companies.count] + (i >= Self.companies.count ? " \(i / Self.companies.count + 1)" : "")
            let created = startMs - Int64(size.accounts - i) * 86_400_000
            accounts.append(
                Account(
                    name: name, domain: "\(name.lowercased().replacingOccurrences(of: " ", with: "")).example",
                    createdAt: created, updatedAt: created))
        }
        lastTick = max(lastTick, tags.map(\.updatedAt).max() ?? 0)
    }

    /// Times are `slot * count + index` so no two contacts share an `updated_at`: a client whose
    /// cursor is "strictly after the last one seen" then never loses a tie at a page boundary.
    private mutating func seedContacts(count: Int, rng: inout SeededRandom, startMs: Int64, spanMs: Int64) {
        let stride = Int64(max(1, count))
        let slots = max(2, spanMs / stride)
        for j in 0..<count {
            let first = rng.pick(Self.firstNames)
            let last = rng.pick(Self.lastNames)
            let createdSlot = Int64(rng.int(0..<Int(slots * 7 / 10 + 1)))
            let updatedSlot = rng.chance(0.4) ? createdSlot : createdSlot + Int64(rng.int(1..<Int(max(2, slots - createdSlot))))
            let company = accounts.isEmpty ? nil : rng.int(0..<accounts.count)
            let domain = company.map { accounts[$0].domain } ?? "mail.example"
            contacts.append(
                Contact(
                    name: "\(first) \(last)", email: "\(first.lowercased()).\(last.lowercased()).\(j)@\(domain)",
                    phone: rng.chance(0.3) ? "+1555\(String(format: "%07d", rng.int(0..<10_000_000)))" : nil,
                    createdAt: startMs + createdSlot * stride + Int64(j), updatedAt: startMs + updatedSlot * stride + Int64(j),
                    account: company))
        }
        lastTick = max(lastTick, contacts.map(\.updatedAt).max() ?? 0)
    }

    /// Each conversation's history is simulated in its own time order; times are
    /// `slot * count + index`, so events of different conversations never tie, then all events are
    /// merged in time order and numbered (ids monotonic with `emitted_at`).
    private mutating func seedConversations(size: Size, rng: inout SeededRandom, startMs: Int64, spanMs: Int64) {
        let count = size.conversations
        guard count > 0 else { return }
        let stride = Int64(count)
        let slots = max(4, spanMs / stride)
        var pending: [FrontEvent] = []
        pending.reserveCapacity(count * max(1, size.eventsPerConversation))
        let mix: [(FrontEventType, Double)] = [
            (.inbound, 0.24), (.outReply, 0.2), (.outbound, 0.04), (.comment, 0.14), (.assign, 0.1),
            (.unassign, 0.02), (.tag, 0.1), (.untag, 0.03), (.archive, 0.09), (.reopen, 0.04),
        ]
        for c in 0..<count {
            var slot = Int64(rng.int(0..<Int(slots * 8 / 10)))
            let total = size.eventsPerConversation <= 1 ? 1 : 1 + rng.int(0..<(2 * size.eventsPerConversation - 1))
            var conv = Conversation(
                subject: rng.pick(Self.subjects) + " #\(c + 1)", status: .unassigned, assignee: nil, tags: [],
                inbox: inboxes.isEmpty ? 0 : rng.int(0..<inboxes.count),
                contact: contacts.isEmpty ? 0 : rng.int(0..<contacts.count),
                createdAt: startMs + slot * stride + Int64(c), updatedAt: 0, waitingSince: nil, lastActivity: 0, lastMessage: nil)
            conversations.append(conv)
            for k in 0..<total {
                if k > 0 {
                    let remaining = Int64(total - k)
                    let room = max(1, (slots - slot) / (remaining + 1))
                    slot += 1 + Int64(rng.int(0..<Int(2 * room)))
                }
                let at = startMs + slot * stride + Int64(c)
                var type: FrontEventType = .inbound
                if k > 0 {
                    var roll = Double.random(in: 0..<1, using: &rng)
                    for (t, p) in mix {
                        if roll < p {
                            type = t
                            break
                        }
                        roll -= p
                    }
                }
                conv = conversations[c]
                if let event = apply(type, to: &conv, index: c, at: at, rng: &rng) { pending.append(event) }
                conversations[c] = conv
            }
        }
        pending.sort { $0.at < $1.at }
        events = pending
        activities = messages.map { ($0.at, $0.conversation) }
        activities.sort { $0.at < $1.at }
        lastTick = max(lastTick, events.last?.at ?? 0)
    }

    /// Applies one change to a conversation the way Front does (status, assignee, tags, activity)
    /// and returns the event it emits, or nil if the change was a no-op (e.g. untag with no tags).
    private mutating func apply(
        _ requested: FrontEventType, to conv: inout Conversation, index: Int, at: Int64,
        rng: inout SeededRandom
    ) -> FrontEvent? {
        var type = requested
        let actor: Int? = teammates.isEmpty ? nil : rng.int(0..<teammates.count)
        var target: Int? = nil
        let liveTags = tags.indices.filter { tags[$0].deletedAt == nil }
        switch type {
        case .untag where conv.tags.isEmpty: type = .tag
        case .unassign where conv.assignee == nil: type = teammates.isEmpty ? .comment : .assign
        case .reopen where conv.status != .archived: type = .archive
        case .tag where liveTags.isEmpty: type = .comment
        case .assign where teammates.isEmpty: type = .comment
        default: break
        }
        switch type {
        case .inbound, .outbound, .outReply, .comment:
            let inbound = type == .inbound
            messages.append(
                Message(
                    conversation: index, at: at, inbound: inbound, author: inbound ? nil : actor,
                    isComment: type == .comment))
            target = messages.count - 1
            if type != .comment { conv.lastMessage = target }
            conv.lastActivity = at
            if inbound {
                conv.waitingSince = conv.waitingSince ?? at
                if conv.status == .archived { conv.status = conv.assignee == nil ? .unassigned : .assigned }
            } else if type != .comment {
                conv.waitingSince = nil
            }
        case .assign:
            var who = rng.int(0..<teammates.count)
            if who == conv.assignee, teammates.count > 1 { who = (who + 1) % teammates.count }
            conv.assignee = who
            target = who
            if conv.status != .archived { conv.status = .assigned }
        case .unassign:
            target = conv.assignee
            conv.assignee = nil
            if conv.status != .archived { conv.status = .unassigned }
        case .tag:
            let candidates = liveTags.filter { !conv.tags.contains($0) }
            guard let tag = candidates.isEmpty ? nil : rng.pick(candidates) else { return nil }
            conv.tags.append(tag)
            target = tag
        case .untag:
            let tag = rng.pick(conv.tags)
            conv.tags.removeAll { $0 == tag }
            target = tag
        case .archive:
            if conv.status == .archived { return nil }
            conv.status = .archived
        case .reopen:
            conv.status = conv.assignee == nil ? .unassigned : .assigned
        }
        conv.updatedAt = at
        if conv.lastActivity == 0 { conv.lastActivity = at }
        return FrontEvent(at: at, type: type, conversation: index, actor: actor, target: target)
    }

    // MARK: indexes

    /// Conversations by (`updated_at`, index), ascending; Front's default list order is this reversed.
    mutating func conversationsByUpdated() -> [Int] {
        if let cached = conversationsByUpdatedCache { return cached }
        let order = conversations.indices.sorted {
            let a = conversations[$0].updatedAt
            let b = conversations[$1].updatedAt
            return a != b ? a < b : $0 < $1
        }
        conversationsByUpdatedCache = order
        return order
    }

    mutating func contactsOrdered(byUpdated: Bool) -> [Int] {
        if byUpdated, let cached = contactsByUpdatedCache { return cached }
        if !byUpdated, let cached = contactsByCreatedCache { return cached }
        let order = contacts.indices.sorted {
            let a = byUpdated ? contacts[$0].updatedAt : contacts[$0].createdAt
            let b = byUpdated ? contacts[$1].updatedAt : contacts[$1].createdAt
            return a != b ? a < b : $0 < $1
        }
        if byUpdated { contactsByUpdatedCache = order } else { contactsByCreatedCache = order }
        return order
    }

    /// First index in `events` whose time satisfies `isAfter` (events are in time order).
    func firstEvent(where isAfter: (Int64) -> Bool) -> Int {
        var lo = 0
        var hi = events.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if isAfter(events[mid].at) { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }

    /// Conversations with a message or comment in `[fromMs, toMs]` (inclusive both ends).
    func conversationsActive(fromMs: Double, toMs: Double) -> Set<Int> {
        var lo = 0
        var hi = activities.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if Double(activities[mid].at) >= fromMs { hi = mid } else { lo = mid + 1 }
        }
        var found = Set<Int>()
        var i = lo
        while i < activities.count, Double(activities[i].at) <= toMs {
            found.insert(activities[i].conversation)
            i += 1
        }
        return found
    }

    // MARK: changes (the /_sandbox/ hooks)

    mutating func tick() -> Int64 {
        lastTick = max(FrontTime.nowMs(), lastTick + 1)
        return lastTick
    }

    /// Picks `count` distinct indices from `0..<total`, deterministically for the seed.
    mutating func pickIndices(_ count: Int, of total: Int, where keep: (Int) -> Bool = { _ in true }) -> [Int] {
        let pool = (0..<total).filter(keep)
        var shuffled = pool
        shuffled.shuffle(using: &mutationRNG)
        return Array(shuffled.prefix(max(0, count)))
    }

    /// Changes a conversation without necessarily adding a message (assign, tag, archive…), bumps its
    /// `updated_at` and emits the event, like Front does.
    mutating func change(conversation c: Int, _ type: FrontEventType) -> Int? {
        var conv = conversations[c]
        var rng = mutationRNG
        let event = apply(type, to: &conv, index: c, at: tick(), rng: &rng)
        mutationRNG = rng
        guard let event else { return nil }
        conversations[c] = conv
        record(event)
        return events.count - 1
    }

    mutating func addConversation() -> Int {
        let at = tick()
        var rng = mutationRNG
        let subject = rng.pick(Self.subjects) + " #\(conversations.count + 1)"
        var conv = Conversation(
            subject: subject, status: .unassigned, assignee: nil, tags: [],
            inbox: inboxes.isEmpty ? 0 : rng.int(0..<inboxes.count), contact: contacts.isEmpty ? 0 : rng.int(0..<contacts.count),
            createdAt: at, updatedAt: at, waitingSince: nil, lastActivity: at, lastMessage: nil)
        conversations.append(conv)
        let index = conversations.count - 1
        if let event = apply(.inbound, to: &conv, index: index, at: at, rng: &rng) { record(event) }
        conversations[index] = conv
        mutationRNG = rng
        return index
    }

    private mutating func record(_ event: FrontEvent) {
        events.append(event)
        if event.type.addsActivity { activities.append((event.at, event.conversation)) }
        conversationsByUpdatedCache = nil
    }

    mutating func touchContact(_ j: Int) {
        contacts[j].updatedAt = tick()
        contactsByUpdatedCache = nil
    }

    mutating func addContact() -> Int {
        let at = tick()
        let first = mutationRNG.pick(Self.firstNames)
        let last = mutationRNG.pick(Self.lastNames)
        let j = contacts.count
        contacts.append(
            Contact(
                name: "\(first) \(last)", email: "\(first.lowercased()).\(last.lowercased()).\(j)@mail.example",
                phone: nil, createdAt: at, updatedAt: at, account: nil))
        contactsByUpdatedCache = nil
        contactsByCreatedCache = nil
        return j
    }

    mutating func addTag(name: String?) -> Int {
        let at = tick()
        let i = tags.count
        tags.append(Tag(name: name ?? "sandbox-tag-\(i)", highlight: nil, createdAt: at, updatedAt: at, deletedAt: nil))
        return i
    }

    /// Deletes a tag: it disappears from `/tags` and from conversations' `tags` (without bumping
    /// their `updated_at`, and without an event: Front emits none for a tag deletion).
    mutating func deleteTag(_ i: Int) {
        guard tags[i].deletedAt == nil else { return }
        tags[i].deletedAt = tick()
        for c in conversations.indices where conversations[c].tags.contains(i) {
            conversations[c].tags.removeAll { $0 == i }
        }
    }
}

extension SeededRandom {
    /// The Front stand-in's seeding: the seed advanced one step first. Its seeded data (and the
    /// tests' expectations of it) come from this sequence, so keep it.
    static func front(seed: UInt64) -> SeededRandom { SeededRandom(seed: seed &+ 0x9E37_79B9_7F4A_7C15) }
}
