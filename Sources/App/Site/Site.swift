import Logging
import Synchronization
import Web

/// The sections of the navigation; a page names the one it belongs to.
enum Section: String, Sendable {
    case connectors, services, captures, collections, audit, settings, none
}

/// What the layout shows around every page: the title, where the visitor is, who they are.
/// Built per request; it is the only per-visitor part of a page besides the forms' CSRF token.
struct LayoutModel: Sendable {
    struct Navigation: Sendable {
        let connectors, services, captures, collections, audit, settings: Bool
    }

    let title: String
    let nav: Navigation
    let version: String
    let sandbox: Bool
    let remoteUser: String?
    /// Content rendered ahead of time, placed as is (see `Site.page(title:section:content:request:)`).
    let body: String?

    init(title: String, section: Section, configuration: Configuration, request: Request, body: String? = nil) {
        self.title = title
        self.nav = Navigation(
            connectors: section == .connectors, services: section == .services, captures: section == .captures,
            collections: section == .collections, audit: section == .audit, settings: section == .settings)
        self.version = configuration.version
        self.sandbox = configuration.sandbox
        self.remoteUser = request.remoteUser
        self.body = body
    }
}

/// A page's template context: the layout's values, the page's typed model under `page`, and
/// the request's CSRF token for the page's forms (issued only if a form renders it).
struct PageContext<Model: Sendable>: Sendable {
    let title: String
    let nav: LayoutModel.Navigation
    let version: String
    let sandbox: Bool
    let remoteUser: String?
    let csrf: CSRFToken
    let csrfField: String
    let page: Model

    init(layout: LayoutModel, csrf: CSRFToken, page: Model) {
        title = layout.title
        nav = layout.nav
        version = layout.version
        sandbox = layout.sandbox
        remoteUser = layout.remoteUser
        self.csrf = csrf
        csrfField = CSRF.fieldName
        self.page = page
    }
}

/// What every page shares: the templates, the layout and the error page.
public struct Site: Sendable {
    public let templates: Templates
    public let configuration: Configuration
    public let logger: Logger
    private let frames = LayoutFrames()

    public init(templates: Templates, configuration: Configuration, logger: Logger) {
        self.templates = templates
        self.configuration = configuration
        self.logger = logger
    }

    /// Renders `template` (which extends `layout` and reads its model under `{{#page}}`).
    func page<Model: Sendable>(
        _ template: String, title: String, section: Section, model: Model, request: Request, status: Int = 200
    ) throws -> Response {
        let layout = LayoutModel(title: title, section: section, configuration: configuration, request: request)
        return .html(try templates.render(template, PageContext(layout: layout, csrf: request.csrf, page: model)), status: status)
    }

    /// Renders a content-only template from its model alone: the bytes hold nothing of the
    /// visitor (no layout, no token), so they may be kept and served to anyone.
    func content<Model: Sendable>(_ template: String, model: Model) throws -> [UInt8] {
        Array(try templates.render(template, model).utf8)
    }

    /// The layout around `content` rendered ahead of time: the layout is rendered for this
    /// visitor with a marker where the content goes (once per title, section and user: it holds
    /// no token), and the kept bytes are sent between its two halves.
    func page(title: String, section: Section, content: [UInt8], request: Request) throws -> Response {
        let frame = try frames.frame(for: title + "|" + section.rawValue + "|" + (request.remoteUser ?? "")) {
            let layout = LayoutModel(
                title: title, section: section, configuration: configuration, request: request, body: LayoutFrames.marker)
            return Array(try templates.render("layout", layout).utf8)
        }
        return .html(body: .parts([frame.head, content, frame.tail]))
    }

    /// The error page: HTML through the layout, or JSON for scripts and the sample's client.
    public func errorPage(_ error: HTTPError, _ request: Request) -> Response {
        if request.wantsJSON || request.path.hasPrefix("/api/") || request.path.hasPrefix("/_/") {
            return .json(
                [
                    "error": [
                        "status": "\(error.status)", "title": error.title, "message": error.message,
                        "request_id": request.requestID,
                    ]
                ],
                status: error.status)
        }
        do {
            return try page(
                "error", title: error.title, section: .none,
                model: ErrorPage(
                    status: error.status, heading: error.title, message: error.message, requestID: request.requestID),
                request: request, status: error.status)
        } catch let renderError {
            // The error template itself is broken: still answer, in plain text.
            logger.error("error page failed to render: \(renderError)")
            return .text("\(error.title): \(error.message)\n", status: error.status)
        }
    }
}

/// The error page's model.
struct ErrorPage: Sendable {
    let status: Int
    let heading: String
    let message: String
    let requestID: String
}

/// The layout rendered around a marker, cut in two: what goes before a kept page's content and
/// what goes after. Kept per title, section and user, since that is all the layout shows.
final class LayoutFrames: Sendable {
    struct Frame: Sendable {
        let head: [UInt8]
        let tail: [UInt8]
    }

    static let marker = "\u{1}switchboard-content\u{1}"
    private let frames = Mutex<[String: Frame]>([:])
    private let limit = 1024

    func frame(for key: String, render: () throws -> [UInt8]) rethrows -> Frame {
        if let frame = frames.withLock({ $0[key] }) { return frame }
        let bytes = try render()
        let frame: Frame
        if let cut = bytes.firstRange(of: Array(Self.marker.utf8)) {
            frame = Frame(head: Array(bytes[..<cut.lowerBound]), tail: Array(bytes[cut.upperBound...]))
        } else {
            frame = Frame(head: bytes, tail: [])
        }
        frames.withLock { frames in
            if frames.count >= limit { frames.removeAll(keepingCapacity: true) }
            frames[key] = frame
        }
        return frame
    }
}
