import Foundation

/// The Connect Card stand-in's pages: enough of fivetran.com's setup form for the app's redirect
/// flow to be driven end to end, with no network.
enum FivetranConnectCardPage {
    private static func page(_ title: String, _ body: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>\(FivetranHTML.escape(title))</title>
        <style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}
        .card{border:1px solid #d0d7de;border-radius:12px;padding:1.5rem}img{vertical-align:middle;margin-right:.75rem}
        button{background:#0073ff;color:#fff;border:0;border-radius:6px;padding:.6rem 1.2rem;font-size:1rem;cursor:pointer}
        .muted{color:#57606a;font-size:.9rem}</style></head>
        <body><div class="card">\(body)</div><p class="muted">Fivetran sandbox — a local stand-in for the Connect Card.</p></body></html>
        """
    }

    static func setup(
        connectorName: String, schema: String, setupState: String, token: String, redirectURI: String, icon: String
    ) -> SandboxResponse {
        let e = FivetranHTML.escape
        let body = """
            <h1><img src="\(e(icon))" width="40" height="40" alt="">\(e(connectorName))</h1>
            <p>Destination schema <code>\(e(schema))</code> · setup state <strong>\(e(setupState))</strong></p>
            <p>Enter the credentials for \(e(connectorName)) here. The sandbox accepts anything.</p>
            <form method="post" action="/connect-card/setup">
            <input type="hidden" name="auth" value="\(e(token))">
            <input type="hidden" name="redirect_uri" value="\(e(redirectURI))">
            <p><label>API key <input name="api_key" autocomplete="off"></label></p>
            <button type="submit">Save &amp; Test</button>
            </form>
            """
        return .html(200, page("\(connectorName) setup", body))
    }

    static func done(connectorName: String) -> SandboxResponse {
        .html(
            200,
            page(
                "Setup complete",
                "<h1>All connection tests passed</h1><p>\(FivetranHTML.escape(connectorName)) is connected. You can close this window.</p>"
            ))
    }

    static func invalid() -> SandboxResponse {
        .html(
            404,
            page(
                "Link expired",
                "<h1>This Connect Card link is invalid or has expired</h1><p>Links are valid for one day. Go back to the application and open the connector's setup again to get a fresh link.</p>"
            ))
    }
}
