//! Monthly cost estimates: the fast total used to rank every survivor, and the line-by-line
//! breakdown recorded for the chosen offer. Both use the same pricing rules.

use super::decision::{CostEstimate, CostLine, Mismatch};
use crate::catalogue::facts::{Facts, PackedFlavor};
use crate::catalogue::{Flavor, Offer};
use crate::money::{HOURS_PER_MONTH, Money};
use crate::request::{ServerRequest, ServiceRequest};

/// How one server of a group is billed on an offer.
enum Rate<'a> {
    Flavor(&'a Flavor),
    /// vCPU-equivalents (RAM beyond the included ratio billed as extra vCPUs) and their price.
    PerVcpu {
        units: u32,
        ratio: u32,
        vcpu_hour: Money,
    },
}

impl Rate<'_> {
    fn hourly(&self) -> Money {
        match self {
            Rate::Flavor(f) => f.hour,
            Rate::PerVcpu {
                units, vcpu_hour, ..
            } => vcpu_hour.times(i64::from(*units)),
        }
    }
}

/// The cheapest flavor at least as big as the server; ties go to the smaller, then to the
/// first listed. The same rule reads the full list ([`Flavor`]) and the packed table.
fn best_flavor<'a>(flavors: &'a [Flavor], s: &ServerRequest) -> Option<&'a Flavor> {
    flavors
        .iter()
        .enumerate()
        .filter(|(_, f)| f.vcpus >= s.vcpus && f.ram_gib >= s.ram_gib)
        .min_by_key(|(i, f)| (f.hour, f.vcpus, f.ram_gib, *i))
        .map(|(_, f)| f)
}

fn best_packed(flavors: &[PackedFlavor], s: &ServerRequest) -> Option<Money> {
    flavors
        .iter()
        .enumerate()
        .filter(|(_, f)| f.vcpus >= s.vcpus && f.ram_gib >= s.ram_gib)
        .min_by_key(|(i, f)| (f.hour, f.vcpus, f.ram_gib, *i))
        .map(|(_, f)| f.hour)
}

fn rate<'a>(
    per_vcpu: Option<(Money, u32)>,
    offer: &'a Offer,
    index: usize,
    s: &ServerRequest,
) -> Result<Rate<'a>, Mismatch> {
    if let Some((vcpu_hour, ratio)) = per_vcpu {
        let units = s.vcpus.max(s.ram_gib.div_ceil(ratio));
        return Ok(Rate::PerVcpu {
            units,
            ratio,
            vcpu_hour,
        });
    }
    best_flavor(&offer.pricing.flavors, s)
        .map(Rate::Flavor)
        .ok_or(Mismatch::NoFlavor {
            server: index as u16,
            vcpus: s.vcpus,
            ram_gib: s.ram_gib,
        })
}

/// The estimated monthly total, or why a server cannot be sized on this offer.
pub(crate) fn monthly_total(
    f: &Facts,
    table: &[PackedFlavor],
    request: &ServiceRequest,
    storage_gib: u64,
) -> Result<Money, Mismatch> {
    let (start, count) = (f.flavors.0 as usize, f.flavors.1 as usize);
    let flavors = &table[start..start + count];
    let mut total = Money::ZERO;
    for (i, s) in request.resources.servers.iter().enumerate() {
        let hourly = match f.per_vcpu {
            Some((vcpu_hour, ratio)) => {
                vcpu_hour.times(i64::from(s.vcpus.max(s.ram_gib.div_ceil(ratio))))
            }
            None => best_packed(flavors, s).ok_or(Mismatch::NoFlavor {
                server: i as u16,
                vcpus: s.vcpus,
                ram_gib: s.ram_gib,
            })?,
        };
        total += hourly.times(HOURS_PER_MONTH * i64::from(s.count));
    }
    if storage_gib > 0 {
        total += f
            .block_gib_month
            .times(i64::try_from(storage_gib).unwrap_or(i64::MAX));
    }
    Ok(total)
}

/// The line-by-line estimate for an offer that passed the services stage.
pub(crate) fn estimate(offer: &Offer, request: &ServiceRequest) -> CostEstimate {
    let mut lines = Vec::new();
    let block = offer.pricing.block_gib_month.unwrap_or(Money::ZERO);
    for (i, s) in request.resources.servers.iter().enumerate() {
        let per_vcpu = offer.pricing.vcpu_hour.zip(offer.pricing.ram_gib_per_vcpu);
        let Ok(r) = rate(per_vcpu, offer, i, s) else {
            continue;
        };
        let basis = match &r {
            Rate::Flavor(f) => format!("flavor {} ({} vCPU, {} GiB)", f.name, f.vcpus, f.ram_gib),
            Rate::PerVcpu { units, ratio, .. } => {
                format!("{units} vCPU at {ratio} GiB RAM per vCPU")
            }
        };
        let count = u64::from(s.count);
        lines.push(CostLine {
            item: format!("server {}", s.name),
            basis,
            quantity: count,
            unit_price: r.hourly(),
            unit: "hour",
            monthly: r.hourly().times(HOURS_PER_MONTH * i64::from(s.count)),
        });
        let per_server: u64 = s.volumes.iter().map(|v| u64::from(v.size_gib)).sum();
        if per_server > 0 {
            let gib = per_server * count;
            lines.push(CostLine {
                item: format!("volumes of server {}", s.name),
                basis: format!("{per_server} GiB x {count}"),
                quantity: gib,
                unit_price: block,
                unit: "GiB-month",
                monthly: block.times(gib as i64),
            });
        }
    }
    for v in &request.resources.volumes {
        let gib = u64::from(v.size_gib);
        lines.push(CostLine {
            item: format!("volume {}", v.name),
            basis: format!("{gib} GiB"),
            quantity: gib,
            unit_price: block,
            unit: "GiB-month",
            monthly: block.times(gib as i64),
        });
    }
    CostEstimate::new(lines, offer.pricing.estimate)
}
