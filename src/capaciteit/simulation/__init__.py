"""The SimPy flow simulation of instroom, doorstroom and uitstroom across care forms."""
