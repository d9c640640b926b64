import NIOCore
import PostgresNIO

/// One column of bulk rows as a single PostgreSQL array bind, in the binary wire format
/// (`text[]` or `int8[]`, NULL elements allowed): `BulkRows` unnests one per column. PostgresNIO's
/// own array encoding has no NULL elements, and the JSON the rows travelled as before cost a
/// write here and a parse and a cast per cell on the server.
struct PostgresColumnArray: PostgresDynamicTypeEncodable, Encodable, Sendable {
    let isText: Bool
    let cells: [SQLCell]

    init(type: SQLColumnType, cells: [SQLCell]) {
        isText = type == .text
        self.cells = cells
    }

    var psqlType: PostgresDataType { isText ? .textArray : .int8Array }
    var psqlFormat: PostgresFormat { .binary }

    /// The layout of `array_recv`: dimensions, a has-nulls flag (the server works it out itself),
    /// the element type, then for the one dimension its length and lower bound, then each element
    /// as a length (-1 for NULL) and its bytes.
    func encode<JSONEncoder: PostgresJSONEncoder>(
        into buffer: inout ByteBuffer,
        context: PostgresEncodingContext<JSONEncoder>
    ) {
        let element = isText ? PostgresDataType.text : PostgresDataType.int8
        buffer.writeInteger(cells.isEmpty ? 0 : 1, as: Int32.self)
        buffer.writeInteger(cells.contains(.null) ? 1 : 0, as: Int32.self)
        buffer.writeInteger(element.rawValue)
        guard !cells.isEmpty else { return }
        buffer.writeInteger(Int32(cells.count))
        buffer.writeInteger(1, as: Int32.self)
        for cell in cells {
            switch cell {
            case .null:
                buffer.writeInteger(-1, as: Int32.self)
            case .int(let value):
                precondition(!isText, "a number in a text column")
                buffer.writeInteger(8, as: Int32.self)
                buffer.writeInteger(value)
            case .text(let value):
                precondition(isText, "text in a number column")
                let lengthIndex = buffer.writerIndex
                buffer.writeInteger(0, as: Int32.self)
                let written = buffer.writeString(value)
                buffer.setInteger(Int32(written), at: lengthIndex)
            }
        }
    }

    /// Only PostgreSQL takes this bind (SQLite's bulk rows are literals); as `Encodable` it is the
    /// list of its values.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        for cell in cells {
            switch cell {
            case .null: try container.encodeNil()
            case .int(let value): try container.encode(value)
            case .text(let value): try container.encode(value)
            }
        }
    }
}
