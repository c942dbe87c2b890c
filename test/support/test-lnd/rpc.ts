// The test LND's records as LND's protobuf messages (lnrpc.Invoice, lnrpc.Payment, lnrpc.PayReq),
// with the fields the `lightning` library checks. 64-bit integers go out as strings.
import type { Bolt11Invoice } from '../../../wallet/bolt11.js';
import type { NodeInvoice, NodePayment } from './node.js';

const sat = (msat: number) => String(Math.floor(msat / 1000));
const hexBuf = (hex: string | null) => (hex ? Buffer.from(hex, 'hex') : Buffer.alloc(0));

/** Feature bits as LND reports them for our invoices (var_onion_optin and payment_addr, required). */
export const FEATURE_MAP = {
  8: { name: 'tlv-onion', is_required: true, is_known: true },
  14: { name: 'payment-addr', is_required: true, is_known: true },
};

export function invoiceMessage(inv: NodeInvoice): Record<string, unknown> {
  return {
    memo: inv.memo,
    r_preimage: hexBuf(inv.preimage),
    r_hash: hexBuf(inv.hash),
    value: sat(inv.valueMsat),
    value_msat: String(inv.valueMsat),
    settled: inv.state === 'SETTLED',
    creation_date: String(inv.creation),
    settle_date: String(inv.settleDate),
    payment_request: inv.request,
    description_hash: hexBuf(inv.descriptionHash),
    expiry: String(inv.expiry),
    fallback_addr: '',
    cltv_expiry: String(inv.cltv),
    route_hints: [],
    private: false,
    add_index: String(inv.addIndex),
    settle_index: String(inv.settleIndex),
    amt_paid: sat(inv.amtPaidMsat),
    amt_paid_sat: sat(inv.amtPaidMsat),
    amt_paid_msat: String(inv.amtPaidMsat),
    state: inv.state,
    htlcs: inv.htlcs.map((h, i) => ({
      chan_id: h.htlc.chanId,
      htlc_index: String(i),
      amt_msat: String(h.htlc.amountMsat),
      accept_height: h.htlc.acceptHeight,
      accept_time: String(h.acceptTime),
      resolve_time: String(h.resolveTime),
      expiry_height: h.htlc.expiryHeight,
      state: h.state,
      custom_records: {},
      mpp_total_amt_msat: String(h.htlc.totalMsat),
    })),
    features: FEATURE_MAP,
    is_keysend: false,
    payment_addr: hexBuf(inv.paymentAddr),
    is_amp: false,
  };
}

export function payReqMessage(d: Bolt11Invoice): Record<string, unknown> {
  return {
    destination: d.payee,
    payment_hash: d.paymentHash,
    num_satoshis: sat(d.amountMsat ?? 0),
    num_msat: String(d.amountMsat ?? 0),
    timestamp: String(d.timestamp),
    expiry: String(d.expirySeconds),
    description: d.description ?? '',
    description_hash: d.descriptionHash ?? '',
    fallback_addr: '',
    cltv_expiry: String(d.minFinalCltvExpiry),
    route_hints: [],
    payment_addr: hexBuf(d.paymentSecret),
    features: Object.fromEntries(d.features.map((b) => [b, { name: '', is_required: b % 2 === 0, is_known: true }])),
  };
}

export function paymentMessage(p: NodePayment): Record<string, unknown> {
  const route = p.route
    ? {
        total_time_lock: p.route.timeLock,
        total_fees: sat(p.route.feeMsat),
        total_amt: sat(p.route.totalMsat),
        total_fees_msat: String(p.route.feeMsat),
        total_amt_msat: String(p.route.totalMsat),
        hops: p.route.hops.map((h) => ({
          chan_id: h.channel.id,
          chan_capacity: sat(h.channel.capacityMsat),
          amt_to_forward: sat(h.forwardMsat),
          amt_to_forward_msat: String(h.forwardMsat),
          fee: sat(h.feeMsat),
          fee_msat: String(h.feeMsat),
          expiry: h.expiry,
          pub_key: h.to,
          tlv_payload: true,
          custom_records: {},
        })),
      }
    : null;
  const htlcStatus = p.status === 'SUCCEEDED' ? 'SUCCEEDED' : p.status === 'FAILED' ? 'FAILED' : 'IN_FLIGHT';
  return {
    payment_hash: p.hash,
    value: sat(p.valueMsat),
    creation_date: String(p.creationNs / 1_000_000_000n),
    fee: sat(p.feeMsat),
    payment_preimage: p.preimage || '0'.repeat(64),
    value_sat: sat(p.valueMsat),
    value_msat: String(p.valueMsat),
    payment_request: p.request,
    status: p.status,
    fee_sat: sat(p.feeMsat),
    fee_msat: String(p.feeMsat),
    creation_time_ns: String(p.creationNs),
    htlcs: route
      ? [
          {
            attempt_id: String(p.index),
            status: htlcStatus,
            route,
            attempt_time_ns: String(p.creationNs),
            resolve_time_ns: String(p.resolveNs || p.creationNs),
            preimage: p.preimage ? Buffer.from(p.preimage, 'hex') : Buffer.alloc(0),
          },
        ]
      : [],
    payment_index: String(p.index),
    failure_reason: p.failureReason,
  };
}
