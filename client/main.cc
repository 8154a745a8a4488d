// cyclrctl: the command-line client of the cyclr coordinator (see client/cli.h).
#include <iostream>

#include "client/cli.h"

int main(int argc, char** argv) {
  return cyclr::client::RunCli(argc, argv, cyclr::client::EnvironmentFromProcess(), std::cout,
                               std::cerr);
}
