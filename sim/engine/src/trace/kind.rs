//! What a trace event is: its name (hashed, so never renamed), how loud
//! it is, and what its two numbers (or its bytes) mean in a text line.
//!
//! A call site records a `&'static Kind` or `&'static BytesKind`, so it
//! cannot record a kind that has no rendering. A line reads `TIME NODE
//! KIND field=value ...`: time in seconds of virtual time, the node as
//! `n1` (1-based) or `-` for the cluster, then the kind's fields.

use std::fmt::Write;

/// How loud an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// What happened to a node, its state or the cluster: `--trace` shows
    /// it (tracing level DEBUG).
    Event,
    /// One per tick, message or disk sync: only `--trace=all` shows it
    /// (tracing level TRACE).
    Noise,
}

/// How one of an event's two numbers reads.
#[derive(Debug, Clone, Copy)]
pub enum Field {
    /// Recorded as 0 by every call site of the kind: not shown.
    Unused,
    /// `name=N`.
    Num(&'static str),
    /// A 0-based node: `name=n3`.
    Node(&'static str),
    /// A bit mask of 0-based nodes: `name=n1,n3`.
    Nodes(&'static str),
    /// A 64-bit digest: `name=` and 16 hex digits.
    Digest(&'static str),
    /// A full node id: `name=0x` and 16 hex digits, as `regsim node-id`
    /// prints it.
    FullId(&'static str),
    /// 0 or 1: `name=no` or `name=yes`.
    Flag(&'static str),
    /// An index into the names; any other value reads as its number.
    Choice(&'static str, &'static [&'static str]),
    /// A raft message type: `msg=MsgAppend`.
    Msg,
    /// A raft message type in the high 32 bits, a log index in the low:
    /// `msg=MsgAppend index=5`.
    MsgAndIndex,
    /// Read by the system that declared the kind: appends ` name=value`
    /// (with the leading space) for the number.
    Custom(fn(u64, &mut String)),
}

/// A kind of event with two numbers.
#[derive(Debug)]
pub struct Kind {
    name: &'static str,
    level: Level,
    a: Field,
    b: Field,
}

/// A kind of event whose content is bytes, shown as `name=<hex>` per
/// part (a part the call site did not give reads `name=-`).
#[derive(Debug)]
pub struct BytesKind {
    name: &'static str,
    parts: &'static [&'static str],
}

impl Kind {
    /// An event `--trace` shows.
    pub const fn event(name: &'static str, a: Field, b: Field) -> Kind {
        Kind {
            name,
            level: Level::Event,
            a,
            b,
        }
    }

    /// An event only `--trace=all` shows (ticks, syncs, messages).
    pub const fn noise(name: &'static str, a: Field, b: Field) -> Kind {
        Kind {
            name,
            level: Level::Noise,
            a,
            b,
        }
    }

    /// The name the trace hashes.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// How loud it is.
    pub fn level(&self) -> Level {
        self.level
    }

    /// Appends the fields of `a` and `b` (each with a leading space).
    pub fn render(&self, a: u64, b: u64, out: &mut String) {
        render_field(self.a, a, out);
        render_field(self.b, b, out);
    }
}

impl BytesKind {
    /// A bytes kind whose parts are named `parts`.
    pub const fn new(name: &'static str, parts: &'static [&'static str]) -> BytesKind {
        BytesKind { name, parts }
    }

    /// The name the trace hashes.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Appends `part=<hex>` for each part (with a leading space).
    pub fn render(&self, parts: &[&[u8]], out: &mut String) {
        for (i, name) in self.parts.iter().enumerate() {
            let _ = match parts.get(i) {
                Some(p) => write!(out, " {name}={}", hex(p)),
                None => write!(out, " {name}=-"),
            };
        }
        // Parts beyond the names still show: nothing recorded is hidden.
        for p in parts.iter().skip(self.parts.len()) {
            let _ = write!(out, " {}", hex(p));
        }
    }
}

fn render_field(field: Field, v: u64, out: &mut String) {
    let _ = match field {
        Field::Unused => Ok(()),
        Field::Num(n) => write!(out, " {n}={v}"),
        Field::Node(n) => write!(out, " {n}={}", node_name(v)),
        Field::Nodes(n) => {
            let nodes: Vec<String> = (0..64).filter(|i| v >> i & 1 == 1).map(node_name).collect();
            write!(out, " {n}={}", nodes.join(","))
        }
        Field::Digest(n) => write!(out, " {n}={v:016x}"),
        Field::FullId(n) => write!(out, " {n}={v:#018x}"),
        Field::Flag(n) => write!(out, " {n}={}", if v == 0 { "no" } else { "yes" }),
        Field::Choice(n, names) => match usize::try_from(v).ok().and_then(|i| names.get(i)) {
            Some(name) => write!(out, " {n}={name}"),
            None => write!(out, " {n}={v}"),
        },
        Field::Msg => write!(out, " msg={}", msg_name(v)),
        Field::MsgAndIndex => write!(out, " msg={} index={}", msg_name(v >> 32), v & 0xFFFF_FFFF),
        Field::Custom(render) => {
            render(v, out);
            Ok(())
        }
    };
}

fn node_name(v: u64) -> String {
    format!("n{}", v + 1)
}

fn msg_name(v: u64) -> String {
    use protobuf::ProtobufEnum;
    i32::try_from(v)
        .ok()
        .and_then(raft::eraftpb::MessageType::from_i32)
        .map_or_else(|| v.to_string(), |t| format!("{t:?}"))
}

/// Lowercase hex, two digits a byte (what `regsim inspect` reads).
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}
