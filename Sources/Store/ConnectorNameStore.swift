import Foundation

/// The display names people give Fivetran connectors. Fivetran knows only the schema name, so
/// the name typed in the form lives here (the sample kept it in memory and lost it on restart).
public protocol ConnectorNameStore: Sendable {
    /// Records (or replaces) the display name of a connector.
    func setConnectorName(_ name: String, for connectorID: String, by user: String?, at time: Date) throws(StoreError)

    /// Every display name, by connector id.
    func connectorNames() throws(StoreError) -> [String: String]

    /// Forgets a deleted connector's display name; false when it had none.
    @discardableResult
    func removeConnectorName(for connectorID: String) throws(StoreError) -> Bool
}

extension ConnectorNameStore {
    public func setConnectorName(_ name: String, for connectorID: String, by user: String?) throws(StoreError) {
        try setConnectorName(name, for: connectorID, by: user, at: Date())
    }
}
