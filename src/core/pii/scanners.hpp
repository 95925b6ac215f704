// The scanners behind scan_value() (detect.hpp), one per detector, each appending its findings
// in `text` (already normalised) to `out`, in order of position, in time linear in text.size().
// Internal to src/core/pii; tests call them one by one. Throw std::bad_alloc only.
#pragma once

#include <string_view>
#include <vector>

#include "core/pii/detect.hpp"

namespace telemetry::pii {

void find_emails(std::string_view text, std::vector<Finding>& out);
void find_phones(std::string_view text, std::vector<Finding>& out);
void find_ip_addresses(std::string_view text, std::vector<Finding>& out);
void find_payment_cards(std::string_view text, std::vector<Finding>& out);
void find_ibans(std::string_view text, std::vector<Finding>& out);
void find_us_ssns(std::string_view text, std::vector<Finding>& out);
void find_jwts(std::string_view text, std::vector<Finding>& out);
void find_private_keys(std::string_view text, std::vector<Finding>& out);
void find_api_keys(std::string_view text, std::vector<Finding>& out);

}  // namespace telemetry::pii
