//! A real nameserver on loopback (UDP) for the hostname-ownership checks: it answers TXT
//! queries from the records a test sets, and "no such name" for everything else.

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::UdpSocket;

#[derive(Clone)]
pub struct Nameserver {
    pub addr: SocketAddr,
    records: Arc<Mutex<HashMap<String, Vec<String>>>>,
}

impl Nameserver {
    pub async fn start() -> Nameserver {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let server = Nameserver {
            addr: socket.local_addr().unwrap(),
            records: Arc::default(),
        };
        let records = server.records.clone();
        tokio::spawn(async move {
            let mut buffer = [0u8; 1500];
            while let Ok((len, from)) = socket.recv_from(&mut buffer).await {
                let Ok(query) = Message::from_vec(&buffer[..len]) else {
                    continue;
                };
                let reply = answer(&query, &records.lock().unwrap());
                if let Ok(bytes) = reply.to_vec() {
                    let _ = socket.send_to(&bytes, from).await;
                }
            }
        });
        server
    }

    /// Publish a TXT record (`name` without the trailing dot).
    pub fn set_txt(&self, name: &str, value: &str) {
        self.records
            .lock()
            .unwrap()
            .entry(format!("{name}."))
            .or_default()
            .push(value.to_owned());
    }
}

fn answer(query: &Message, records: &HashMap<String, Vec<String>>) -> Message {
    let mut reply = Message::new();
    reply
        .set_id(query.id())
        .set_message_type(MessageType::Response)
        .set_op_code(query.op_code())
        .set_recursion_desired(query.recursion_desired())
        .set_recursion_available(true)
        .set_authoritative(true);
    let mut found = false;
    for q in query.queries() {
        reply.add_query(q.clone());
        let name = q.name().to_ascii().to_ascii_lowercase();
        if let (RecordType::TXT, Some(values)) = (q.query_type(), records.get(&name)) {
            for value in values {
                let owner = Name::from_ascii(&name).unwrap();
                let txt = RData::TXT(TXT::new(vec![value.clone()]));
                reply.add_answer(Record::from_rdata(owner, 60, txt));
                found = true;
            }
        }
    }
    if !found {
        reply.set_response_code(ResponseCode::NXDomain);
    }
    reply
}
