import Web

/// `/` and `/healthz`.
struct HomeRoutes {
    let site: Site
    let started: ContinuousClock.Instant

    func register(in router: inout Router) {
        router.get("/") { _ in .redirect(to: "/connectors", status: 302) }
        router.get("/healthz") { [site, started] _ in
            let uptime = ContinuousClock.now - started
            return .json(Health(status: "ok", version: site.configuration.version, uptimeSeconds: uptime.components.seconds))
        }
    }
}

struct Health: Encodable {
    let status: String
    let version: String
    let uptimeSeconds: Int64

    enum CodingKeys: String, CodingKey {
        case status, version
        case uptimeSeconds = "uptime_seconds"
    }
}
