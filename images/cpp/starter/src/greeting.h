#pragma once

#include <string>

/// The text the page shows.
std::string greeting(const std::string& name);
